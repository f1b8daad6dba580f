import type { ChatCompletionChunk } from "../api/chat-response.ts";
import { flushEchoes, maskEchoes, NOTHING_HELD } from "./echo-holdback.ts";

/**
 * A stream's side of echo-holdback.ts: what is held between its chunks, and its last chunk, which a
 * flush copies its id, model and time from.
 */
export function createEchoGuard(secrets: readonly string[]) {
  let held = NOTHING_HELD;
  let last: ChatCompletionChunk | undefined;
  return {
    /** The chunks to send for one: text that may begin a credential held back, a credential masked. */
    mask(chunk: ChatCompletionChunk): ChatCompletionChunk[] {
      const step = maskEchoes(chunk, secrets, held);
      held = step.held;
      last = step.chunks.at(-1);
      return step.chunks;
    },
    /** What is still held, as a chunk to send now (undefined when nothing is); nothing is held after. */
    flush(): ChatCompletionChunk | undefined {
      const rest = last && flushEchoes(last, held);
      held = NOTHING_HELD;
      return rest;
    },
  };
}
