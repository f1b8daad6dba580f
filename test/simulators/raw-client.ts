/** Raw node:http client used by the simulator fault tests. */
import http from "node:http";
import { afterEach } from "vitest";
import { DEFAULT_API_KEY, type Simulator, type SimulatorOptions, startOpenAISimulator } from "./index.ts";

export interface RawResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  chunks: Buffer[];
  error?: Error;
}

/** POST with node:http, recording each received data chunk; resolves on end, error or timeout. */
export function rawPost(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs = 2000,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const result: RawResult = { status: 0, headers: {}, chunks: [] };
    const req = http.request(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
    });
    const timer = setTimeout(() => req.destroy(new Error("client timeout")), timeoutMs);
    const done = (error?: Error): void => {
      clearTimeout(timer);
      if (error) result.error = error;
      resolve(result);
    };
    req.on("response", (res) => {
      result.status = res.statusCode ?? 0;
      result.headers = res.headers;
      res.on("data", (c: Buffer) => result.chunks.push(c));
      res.on("end", () => done());
      res.on("error", done);
    });
    req.on("error", done);
    req.end(JSON.stringify(body));
  });
}

export const dataLines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .filter((l) => l.startsWith("data: "))
    .map((l) => l.slice(6));

export const bodyText = (r: RawResult): string => Buffer.concat(r.chunks).toString("utf8");

/** Starts OpenAI simulators for one test file and closes them after each test. */
export function useOpenAISimulators(): (opts?: SimulatorOptions) => Promise<Simulator> {
  const sims: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  return async (opts) => {
    const s = await startOpenAISimulator(opts);
    sims.push(s);
    return s;
  };
}

export const auth = { authorization: `Bearer ${DEFAULT_API_KEY}` };

export const chatBody = (content: string, stream = false) => ({
  model: "m",
  stream,
  messages: [{ role: "user", content }],
});
