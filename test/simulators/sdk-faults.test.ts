import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_API_KEY,
  type Simulator,
  startAnthropicSimulator,
  startGeminiSimulator,
  startOpenAISimulator,
} from "./index.ts";

let oa: Simulator;
let an: Simulator;
let gm: Simulator;
beforeAll(async () => {
  [oa, an, gm] = await Promise.all([
    startOpenAISimulator(),
    startAnthropicSimulator(),
    startGeminiSimulator(),
  ]);
});
afterAll(() => Promise.all([oa.close(), an.close(), gm.close()]));

const drain = async (iter: AsyncIterable<unknown>): Promise<number> => {
  let n = 0;
  for await (const _ of iter) n++;
  return n;
};

describe("faults as seen by the official SDKs", () => {
  it("OpenAI: reset-before → APIConnectionError, hang-before → timeout, reset-mid stream throws", async () => {
    const client = new OpenAI({ apiKey: DEFAULT_API_KEY, baseURL: oa.url, maxRetries: 0, timeout: 200 });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "some words here" }];
    oa.enqueueFaults(
      { kind: "reset-before" },
      { kind: "hang-before" },
      { kind: "reset-mid", afterEvents: 2 },
    );
    await expect(client.chat.completions.create({ model: "m", messages })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    await expect(client.chat.completions.create({ model: "m", messages })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
    const stream = await client.chat.completions.create({ model: "m", messages, stream: true });
    await expect(drain(stream)).rejects.toThrow();
  });

  it("Anthropic: 529 → APIError status 529 (overloaded_error); hang-mid stream hits the timeout", async () => {
    const client = new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: an.url, maxRetries: 0, timeout: 300 });
    const params = {
      model: "claude-sonnet-4-6",
      max_tokens: 10,
      messages: [{ role: "user" as const, content: "x" }],
    };
    an.enqueueFaults({ kind: "status", status: 529 }, { kind: "hang-mid", afterEvents: 3 });
    const err = await client.messages.create(params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: "overloaded_error" },
    });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 300);
    const stream = client.messages.stream(params, { signal: ac.signal });
    await expect(stream.finalMessage()).rejects.toThrow();
    clearTimeout(timer);
  });

  it("Gemini: invalid-json stream event makes the SDK throw; delay still answers", async () => {
    const ai = new GoogleGenAI({ apiKey: DEFAULT_API_KEY, httpOptions: { baseUrl: gm.url } });
    gm.enqueueFaults({ kind: "invalid-json" }, { kind: "delay", ms: 50 });
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "x" });
    await expect(drain(stream)).rejects.toThrow();
    const res = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "later" });
    expect(res.text).toBe("Echo: later");
  });
});
