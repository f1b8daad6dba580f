import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_API_KEY, type Simulator, startOpenAISimulator } from "./index.ts";

let sim: Simulator;
let client: OpenAI;
const model = "gpt-4o-mini";

beforeAll(async () => {
  sim = await startOpenAISimulator();
  client = new OpenAI({ apiKey: DEFAULT_API_KEY, baseURL: sim.url, maxRetries: 0 });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

describe("OpenAI simulator via the official SDK", () => {
  it("non-stream text: echo + deterministic usage", async () => {
    const res = await client.chat.completions.create({
      model,
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "héllo wörld" },
      ],
    });
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]?.message.content).toBe("Echo: héllo wörld");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    const bytes = Buffer.byteLength(JSON.stringify(sim.requests[0]?.body));
    expect(res.usage?.prompt_tokens).toBe(7 + 3 * 2 + (bytes % 13));
    expect(res.usage?.completion_tokens).toBe(5 + ("Echo: héllo wörld".length % 11));
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBe(2);
    expect(sim.requests[0]?.headers.authorization).toBe(`Bearer ${DEFAULT_API_KEY}`);
  });

  it("multi-part user content joins text parts", async () => {
    const res = await client.chat.completions.create({
      model,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
      ],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: ab");
  });

  it("stream text: reassembles to the default reply, usage chunk only with include_usage", async () => {
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "naïve café ☕ stream" }],
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Echo: naïve café ☕ stream");
    expect(chunks).toBeGreaterThan(5);
    expect(finish).toBe("stop");
    const bytes = Buffer.byteLength(JSON.stringify(sim.requests[0]?.body));
    expect(usage?.prompt_tokens).toBe(7 + 3 + (bytes % 13));
    expect(usage?.completion_tokens).toBe(5 + ([...text].length % 11));

    const noUsage = await client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    for await (const chunk of noUsage) expect(chunk.usage ?? null).toBeNull();
  });

  it("tool calls, non-stream and stream (SDK accumulator)", async () => {
    const toolCalls = [
      { name: "get_weather", arguments: { city: "Paris", unit: "c" } },
      { name: "lookup", arguments: { q: "x" } },
    ];
    sim.enqueueScripts({ toolCalls }, { toolCalls, usage: { input: 11, output: 22 } });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
    ];
    const res = await client.chat.completions.create({
      model,
      tools,
      messages: [{ role: "user", content: "w?" }],
    });
    const calls = res.choices[0]?.message.tool_calls ?? [];
    expect(res.choices[0]?.finish_reason).toBe("tool_calls");
    expect(res.choices[0]?.message.content).toBeNull();
    expect(
      calls.map((c) => (c.type === "function" ? [c.function.name, JSON.parse(c.function.arguments)] : null)),
    ).toEqual(toolCalls.map((t) => [t.name, t.arguments]));

    const runner = client.chat.completions.stream({
      model,
      tools,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "w?" }],
    });
    let argDeltas = 0;
    for await (const chunk of runner) {
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) if (tc.function?.arguments) argDeltas++;
    }
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls ?? [];
    expect(
      streamed.map((c) =>
        c.type === "function" ? [c.function.name, JSON.parse(c.function.arguments)] : null,
      ),
    ).toEqual(toolCalls.map((t) => [t.name, t.arguments]));
    expect(argDeltas).toBeGreaterThan(4);
    expect(final.usage?.prompt_tokens).toBe(11);
    expect(final.usage?.completion_tokens).toBe(22);
  });

  it("log probabilities per content token when asked, with top alternatives, non-stream and stream", async () => {
    const params = {
      model,
      logprobs: true,
      top_logprobs: 2,
      messages: [{ role: "user" as const, content: "hi" }],
    };
    const res = await client.chat.completions.create(params);
    const content = res.choices[0]?.logprobs?.content ?? [];
    expect(content.map((t) => t.token).join("")).toBe(res.choices[0]?.message.content);
    expect(content[0]?.top_logprobs).toHaveLength(2);
    const stream = await client.chat.completions.create({ ...params, stream: true });
    let streamed = "";
    for await (const c of stream) for (const t of c.choices[0]?.logprobs?.content ?? []) streamed += t.token;
    expect(streamed).toBe(res.choices[0]?.message.content);
    const plain = await client.chat.completions.create({ model, messages: params.messages });
    expect(plain.choices[0]?.logprobs).toBeNull();
  });

  it("annotations as scripted: on the message, and in a stream on one delta after the text", async () => {
    const annotations = [
      {
        type: "url_citation",
        url_citation: { start_index: 0, end_index: 4, url: "https://example.com/", title: "Example" },
      },
    ];
    sim.enqueueScripts({ text: "Sunny", annotations }, { text: "Sunny", annotations });
    const params = { model, messages: [{ role: "user" as const, content: "weather?" }] };
    const res = await client.chat.completions.create(params);
    expect(res.choices[0]?.message.annotations).toEqual(annotations);
    const stream = await client.chat.completions.create({ ...params, stream: true });
    // The SDK's chunk type has no `annotations` (its stream helper copies any delta field onto the message).
    const deltas: Array<Record<string, unknown>> = [];
    for await (const c of stream) if (c.choices[0]) deltas.push({ ...c.choices[0].delta });
    expect(deltas.filter((d) => "annotations" in d)).toEqual([{ annotations }]);
    const plain = await client.chat.completions.create(params);
    expect(plain.choices[0]?.message.annotations).toEqual([]);
  });

  it("429 surfaces as RateLimitError with retry-after", async () => {
    sim.enqueueFaults({ kind: "status", status: 429, headers: { "retry-after": "3" } });
    const err = await client.chat.completions
      .create({ model, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.headers.get("retry-after")).toBe("3");
    expect(e.code).toBe("rate_limit_exceeded");
  });

  it("wrong key → AuthenticationError; missing model → 400; unknown path → 404", async () => {
    const bad = new OpenAI({ apiKey: "sk-wrong", baseURL: sim.url, maxRetries: 0 });
    const err = await bad.chat.completions
      .create({ model, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");

    const res = await fetch(`${sim.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEFAULT_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { type: "invalid_request_error", param: null, code: null },
    });
    const notFound = await fetch(`${sim.url}/nope`, { method: "POST" });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { message: "Invalid URL (POST /v1/nope)" } });
  });

  it("embeddings (SDK default base64 and float)", async () => {
    const a = await client.embeddings.create({ model: "text-embedding-3-small", input: ["alpha", "beta"] });
    const b = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: "alpha",
      encoding_format: "float",
    });
    expect(a.data).toHaveLength(2);
    expect(a.data[0]?.embedding).toHaveLength(8);
    expect(a.data[0]?.embedding).toEqual(b.data[0]?.embedding);
    expect(a.data[0]?.embedding).not.toEqual(a.data[1]?.embedding);
    expect(a.usage.prompt_tokens).toBeGreaterThan(0);
  });
});
