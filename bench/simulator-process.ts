import { startOpenAISimulator } from "../test/simulators/index.ts";
import { failChild, serveChild } from "./ipc.ts";

/** The upstream every path talks to: the OpenAI simulator, 4 characters per stream chunk. */
try {
  const sim = await startOpenAISimulator({ chunkChars: 4 });
  // The simulator records every request for tests; drop them so a long run does not grow the heap.
  const trim = setInterval(() => sim.reset(), 1_000);
  serveChild(sim.url, async () => {
    clearInterval(trim);
    await sim.close();
  });
} catch (err) {
  failChild(err);
}
