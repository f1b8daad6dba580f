import { ApiError, type GenerateContentResponse, GoogleGenAI, type ThinkingLevel } from "@google/genai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_API_KEY, type Simulator, startGeminiSimulator } from "./index.ts";

let sim: Simulator;
let ai: GoogleGenAI;
const model = "gemini-2.5-flash";

beforeAll(async () => {
  sim = await startGeminiSimulator();
  ai = new GoogleGenAI({ apiKey: DEFAULT_API_KEY, httpOptions: { baseUrl: sim.url } });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const bodyBytes = (i: number): number => Buffer.byteLength(JSON.stringify(sim.requests[i]?.body));

describe("Gemini simulator via the official SDK", () => {
  it("non-stream text: echo + usageMetadata", async () => {
    const res = await ai.models.generateContent({
      model,
      contents: [
        { role: "user", parts: [{ text: "hi" }] },
        { role: "model", parts: [{ text: "hello" }] },
        { role: "user", parts: [{ text: "Ünïcode " }, { text: "parts" }] },
      ],
    });
    expect(res.text).toBe("Echo: Ünïcode parts");
    expect(res.candidates?.[0]?.finishReason).toBe("STOP");
    const req = sim.requests[0];
    expect(req?.path).toBe(`/v1beta/models/${model}:generateContent`);
    expect(req?.headers["x-goog-api-key"]).toBe(DEFAULT_API_KEY);
    const input = 7 + 3 * 3 + (bodyBytes(0) % 13);
    const output = 5 + ([..."Echo: Ünïcode parts"].length % 11);
    expect(res.usageMetadata).toMatchObject({
      promptTokenCount: input,
      candidatesTokenCount: output,
      totalTokenCount: input + output,
      cachedContentTokenCount: 2,
    });
  });

  it("stream text (?alt=sse, CRLF): reassembled text and final usage", async () => {
    const stream = await ai.models.generateContentStream({ model, contents: "stream ünïcödé ✨ please" });
    let text = "";
    let last: GenerateContentResponse | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.text ?? "";
      last = chunk;
    }
    expect(sim.requests[0]?.path).toBe(`/v1beta/models/${model}:streamGenerateContent?alt=sse`);
    expect(text).toBe("Echo: stream ünïcödé ✨ please");
    expect(chunks).toBeGreaterThan(4);
    expect(last?.candidates?.[0]?.finishReason).toBe("STOP");
    const input = 7 + 3 + (bodyBytes(0) % 13);
    expect(last?.usageMetadata?.promptTokenCount).toBe(input);
    expect(last?.usageMetadata?.candidatesTokenCount).toBe(5 + ([...text].length % 11));
  });

  it("log probabilities of the chosen tokens and their top candidates, when asked", async () => {
    const config = { responseLogprobs: true, logprobs: 2 };
    const res = await ai.models.generateContent({ model, contents: "odds?", config });
    const lp = res.candidates?.[0]?.logprobsResult;
    expect(lp?.chosenCandidates?.map((c) => c.token).join("")).toBe(res.text);
    expect(lp?.topCandidates?.[0]?.candidates).toHaveLength(2);
    const plain = await ai.models.generateContent({ model, contents: "odds?" });
    expect(plain.candidates?.[0]?.logprobsResult).toBeUndefined();
  });

  it("function calls, non-stream and stream; thought parts and thoughtsTokenCount", async () => {
    const toolCalls = [{ name: "get_weather", arguments: { city: "Kyoto", opts: { metric: true } } }];
    const usage = { input: 30, output: 20, reasoning: 8, cached: 0 };
    sim.enqueueScripts(
      { toolCalls, reasoning: "thinking…", usage },
      { toolCalls, reasoning: "thinking…", usage },
    );
    const config = { tools: [{ functionDeclarations: [{ name: "get_weather" }] }] };
    const res = await ai.models.generateContent({ model, contents: "weather?", config });
    expect(res.functionCalls?.map((c) => [c.name, c.args])).toEqual([
      ["get_weather", toolCalls[0]?.arguments],
    ]);
    expect(res.candidates?.[0]?.content?.parts?.[0]).toEqual({ text: "thinking…", thought: true });
    expect(res.usageMetadata).toMatchObject({
      candidatesTokenCount: 12,
      thoughtsTokenCount: 8,
      totalTokenCount: 50,
    });

    const stream = await ai.models.generateContentStream({ model, contents: "weather?", config });
    const calls: Array<[string | undefined, unknown]> = [];
    let thought = "";
    for await (const chunk of stream) {
      for (const p of chunk.candidates?.[0]?.content?.parts ?? []) if (p.thought) thought += p.text ?? "";
      for (const c of chunk.functionCalls ?? []) calls.push([c.name, c.args]);
    }
    expect(calls).toEqual([["get_weather", toolCalls[0]?.arguments]]);
    expect(thought).toBe("thinking…");
  });

  it("pairs function responses with the calls by position, as Gemini does, and echoes the pairs", async () => {
    const weather = (city: string) => ({ functionCall: { name: "get_weather", args: { city } } });
    const answer = (temp: number) => ({ functionResponse: { name: "get_weather", response: { temp } } });
    const res = await ai.models.generateContent({
      model,
      contents: [
        { role: "user", parts: [{ text: "Paris and Rome?" }] },
        { role: "model", parts: [weather("Paris"), weather("Rome")] },
        { role: "user", parts: [answer(30), answer(21)] },
      ],
    });
    expect(res.text).toBe(
      'Echo: get_weather({"city":"Paris"}) → {"temp":30}; get_weather({"city":"Rome"}) → {"temp":21}',
    );
  });

  it("Gemini 3 signs the first of its calls and checks the signatures of the current turn", async () => {
    const gemini3 = "gemini-3-pro-preview";
    const toolCalls = [
      { name: "get_weather", arguments: { city: "Kyoto" } },
      { name: "get_time", arguments: {} },
    ];
    sim.enqueueScripts({ toolCalls });
    const first = await ai.models.generateContent({ model: gemini3, contents: "weather and time?" });
    const parts = first.candidates?.[0]?.content?.parts ?? [];
    expect(parts.map((p) => typeof p.thoughtSignature)).toEqual(["string", "undefined"]);

    const replay = (signature: string | undefined) => [
      { role: "user", parts: [{ text: "weather and time?" }] },
      {
        role: "model",
        parts: parts.map((p, i) =>
          i === 0
            ? { functionCall: p.functionCall, ...(signature ? { thoughtSignature: signature } : {}) }
            : p,
        ),
      },
      {
        role: "user",
        parts: toolCalls.map((c) => ({ functionResponse: { name: c.name, response: { ok: true } } })),
      },
    ];
    const cases: Array<[string, string | undefined, number]> = [
      ["its own signature", parts[0]?.thoughtSignature, 200],
      ["the documented skip value", "skip_thought_signature_validator", 200],
      ["no signature", undefined, 400],
      ["another call's signature", parts[1]?.thoughtSignature ?? "c2ltLXRob3VnaHQ6b3RoZXI=", 400],
    ];
    for (const [, signature, status] of cases) {
      const res = await ai.models
        .generateContent({ model: gemini3, contents: replay(signature) })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof ApiError ? e.status : -1));
      expect(res).toBe(status);
    }
    // Gemini 2.x neither signs nor checks.
    sim.enqueueScripts({ toolCalls });
    const old = await ai.models.generateContent({ model, contents: "weather?" });
    expect(old.candidates?.[0]?.content?.parts?.[0]?.thoughtSignature).toBeUndefined();
    await expect(ai.models.generateContent({ model, contents: replay(undefined) })).resolves.toBeDefined();
  });

  it.each([
    ["gemini-3-pro-preview", "MEDIUM", 400],
    ["gemini-3-pro-preview", "HIGH", 200],
    ["gemini-3.1-pro-preview", "MINIMAL", 400],
    ["gemini-3.1-pro-preview", "MEDIUM", 200],
    ["gemini-3-flash-preview", "MINIMAL", 200],
  ] as const)(
    "takes thinking level %s %s with status %i, as Google's per-model levels say",
    async (model, level, status) => {
      const got = await ai.models
        .generateContent({
          model,
          contents: "hi",
          config: { thinkingConfig: { thinkingLevel: level as ThinkingLevel } },
        })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof ApiError ? e.status : -1));
      expect(got).toBe(status);
    },
  );

  it.each([
    ["gemini-2.0-flash", 0.5, 200],
    ["gemini-2.5-flash", 0.5, 400],
    ["gemini-2.5-flash", 0, 200],
  ])(
    "takes, on %s, presencePenalty %s with status %i, as Google does",
    async (model, presencePenalty, status) => {
      const got = await ai.models
        .generateContent({ model, contents: "hi", config: { presencePenalty } })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof ApiError ? e.status : -1));
      expect(got).toBe(status);
    },
  );

  it.each([
    ["gemini-2.5-pro", 0, 400],
    ["gemini-2.5-pro", 128, 200],
    ["gemini-2.5-pro", 32768, 200],
    ["gemini-2.5-pro", 32769, 400],
    ["gemini-2.5-flash", 0, 200],
    ["gemini-2.5-flash", 24577, 400],
    ["gemini-2.5-flash-lite", 0, 200],
    ["gemini-2.5-flash-lite", 256, 400],
    ["gemini-2.5-flash-lite", 512, 200],
    ["gemini-2.5-pro", -1, 200],
    // Gemini 2.0 does not think: any thinkingConfig is a 400, a budget of 0 included.
    ["gemini-2.0-flash", 0, 400],
    ["gemini-2.0-flash-lite", 1024, 400],
  ] as const)(
    "takes, on %s, thinking budget %i with status %i, as Google's thinking docs say",
    async (model, thinkingBudget, status) => {
      const got = await ai.models
        .generateContent({ model, contents: "hi", config: { thinkingConfig: { thinkingBudget } } })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof ApiError ? e.status : -1));
      expect(got).toBe(status);
    },
  );

  it("refuses a content with no parts, and an empty text part, with 400", async () => {
    const send = (contents: unknown[]) =>
      fetch(`${sim.url}/v1beta/models/${model}:generateContent?key=${DEFAULT_API_KEY}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ contents }),
      });
    const partless = await send([
      { role: "user", parts: [{ text: "a" }] },
      { role: "user", parts: [] },
    ]);
    expect(partless.status).toBe(400);
    expect(await partless.json()).toMatchObject({
      error: { message: expect.stringContaining("contents[1].parts") },
    });
    const empty = await send([{ role: "user", parts: [{ text: "a" }, { text: "" }] }]);
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { message: expect.stringContaining("empty text") } });
  });

  it("429 surfaces as ApiError status 429; wrong key → 401 UNAUTHENTICATED", async () => {
    sim.enqueueFaults({ kind: "status", status: 429, headers: { "retry-after": "2" } });
    const err = await ai.models.generateContent({ model, contents: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    expect(JSON.parse((err as ApiError).message)).toMatchObject({
      error: { code: 429, status: "RESOURCE_EXHAUSTED" },
    });

    const bad = new GoogleGenAI({ apiKey: "wrong", httpOptions: { baseUrl: sim.url } });
    const authErr = await bad.models.generateContent({ model, contents: "x" }).catch((e: unknown) => e);
    expect(authErr).toBeInstanceOf(ApiError);
    expect((authErr as ApiError).status).toBe(401);

    const viaQuery = await fetch(`${sim.url}/v1beta/models/${model}:generateContent?key=${DEFAULT_API_KEY}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "q" }] }] }),
    });
    expect(viaQuery.status).toBe(200);
    const missing = await fetch(`${sim.url}/v1beta/models/${model}:generateContent?key=${DEFAULT_API_KEY}`, {
      method: "POST",
      body: JSON.stringify({}),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
    const nf = await fetch(`${sim.url}/v1beta/nope?key=${DEFAULT_API_KEY}`, { method: "POST" });
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
  });

  it("embeddings via batchEmbedContents (SDK) and :embedContent (raw)", async () => {
    const res = await ai.models.embedContent({ model: "gemini-embedding-001", contents: ["alpha", "beta"] });
    expect(sim.requests[0]?.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(res.embeddings).toHaveLength(2);
    const a = res.embeddings?.[0]?.values;
    expect(a).toHaveLength(8);
    expect(a).not.toEqual(res.embeddings?.[1]?.values);
    const again = await ai.models.embedContent({ model: "gemini-embedding-001", contents: "alpha" });
    expect(again.embeddings?.[0]?.values).toEqual(a);
    const single = await fetch(`${sim.url}/v1beta/models/gemini-embedding-001:embedContent`, {
      method: "POST",
      headers: { "x-goog-api-key": DEFAULT_API_KEY, "content-type": "application/json" },
      body: JSON.stringify({ content: { parts: [{ text: "alpha" }] } }),
    });
    expect(((await single.json()) as { embedding: { values: number[] } }).embedding.values).toEqual(a);
  });

  const length = (v: number[] | undefined) => Math.sqrt((v ?? []).reduce((sum, x) => sum + x * x, 0));

  it("normalizes full-size embeddings only, as Google does: a smaller outputDimensionality is not", async () => {
    const full = await ai.models.embedContent({ model: "gemini-embedding-001", contents: "alpha" });
    expect(length(full.embeddings?.[0]?.values)).toBeCloseTo(1, 12);
    const short = await ai.models.embedContent({
      model: "gemini-embedding-001",
      contents: "alpha",
      config: { outputDimensionality: 4 },
    });
    expect(short.embeddings?.[0]?.values).toHaveLength(4);
    expect(length(short.embeddings?.[0]?.values)).not.toBeCloseTo(1, 3);
  });

  it("embeds at most 100 inputs in one batch, as Google does", async () => {
    const texts = (n: number) => Array.from({ length: n }, (_, i) => `text ${i}`);
    const hundred = await ai.models.embedContent({ model: "gemini-embedding-001", contents: texts(100) });
    expect(hundred.embeddings).toHaveLength(100);
    const err = await ai.models
      .embedContent({ model: "gemini-embedding-001", contents: texts(101) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toContain("at most 100 requests can be in one batch");
  });
});
