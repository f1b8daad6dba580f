import type OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

/** Chat completions on Gemini: thinking, reasoning tokens and Gemini 3 thought signatures. */
describe("Gemini through the OpenAI SDK", () => {
  it("reports Gemini reasoning tokens and skips the thought text", async () => {
    h.gemini.enqueueScripts({
      text: "42",
      reasoning: "Let me think about it.",
      usage: { input: 10, output: 30, reasoning: 20 },
    });
    const res = await h.client.chat.completions.create({
      model: "ge/gemini-sim",
      messages: [{ role: "user", content: "?" }],
    });
    expect(res.choices[0]?.message.content).toBe("42");
    expect(res.usage).toMatchObject({
      prompt_tokens: 10,
      completion_tokens: 30,
      completion_tokens_details: { reasoning_tokens: 20 },
    });
  });

  it("gives the SDK's stream helper each token's logprobs once, and a tool-only answer null content", async () => {
    h.gemini.enqueueScripts({ text: "Hello, world of mine" }, { toolCalls: [{ name: "f", arguments: {} }] });
    const final = await h.client.chat.completions
      .stream({ model: "ge/gemini-sim", messages: [{ role: "user", content: "?" }], logprobs: true })
      .finalChatCompletion();
    const choice = final.choices[0]!;
    expect(choice.logprobs?.content?.map((t) => t.token).join("")).toBe(choice.message.content);
    const tools = [{ type: "function" as const, function: { name: "f", parameters: { type: "object" } } }];
    const called = await h.client.chat.completions
      .stream({ model: "ge/gemini-sim", messages: [{ role: "user", content: "?" }], tools })
      .finalChatCompletion();
    expect(called.choices[0]?.message).toMatchObject({
      content: null,
      tool_calls: [{ function: { name: "f" } }],
    });
  });

  it("waits out the retry delay Gemini's 429 names in its body, then retries the target", async () => {
    const quota = {
      error: {
        code: 429,
        message: "You exceeded your current quota. Please retry in 0.2s.",
        status: "RESOURCE_EXHAUSTED",
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "0.200s" }],
      },
    };
    h.gemini.enqueueFaults({ kind: "status", status: 429, body: JSON.stringify(quota) });
    const started = Date.now();
    const { data, response } = await h.client.chat.completions
      .create({ model: "ge/gemini-sim", messages: [{ role: "user", content: "hi" }] }, { maxRetries: 0 })
      .withResponse();
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(response.headers.get("x-gateway-attempts")).toBe("2");
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  describe("Gemini 3 thought signatures", () => {
    type Signed = { extra_content?: { google?: { thought_signature?: string } } };
    const calls = [
      { name: "get_weather", arguments: { city: "Paris" } },
      { name: "get_time", arguments: {} },
    ];
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = calls.map((c) => ({
      type: "function",
      function: { name: c.name, parameters: { type: "object", properties: {} } },
    }));
    const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = {
      role: "user",
      content: "weather and time?",
    };
    const results = (ids: string[]): OpenAI.Chat.Completions.ChatCompletionMessageParam[] =>
      ids.map((id) => ({ role: "tool", tool_call_id: id, content: '{"ok":true}' }));
    /** The model turn Gemini received in the replay: its functionCall parts' signatures. */
    const replayedSignatures = () => {
      const body = h.gemini.requests.at(-1)?.body as { contents: Array<{ role: string; parts: Signed[] }> };
      const turn = body.contents.find((c) => c.role === "model");
      return turn?.parts.map((p) => (p as { thoughtSignature?: string }).thoughtSignature);
    };

    it("returns the signature with its call and sends it back on the replayed call", async () => {
      h.gemini.enqueueScripts({ toolCalls: calls });
      const model = "ge/gemini-3-pro-preview";
      const first = await h.client.chat.completions.create({ model, messages: [question], tools });
      const message = first.choices[0]?.message;
      const signatures = (message?.tool_calls ?? []).map(
        (t) => (t as Signed).extra_content?.google?.thought_signature,
      );
      expect(signatures[0]).toEqual(expect.any(String));
      expect(signatures[1]).toBeUndefined();

      // The application appends the assistant message as it got it, as OpenAI's docs show.
      const ids = (message?.tool_calls ?? []).map((t) => t.id);
      const second = await h.client.chat.completions.create({
        model,
        tools,
        messages: [question, message as OpenAI.Chat.Completions.ChatCompletionMessageParam, ...results(ids)],
      });
      expect(second.choices[0]?.finish_reason).toBe("stop");
      expect(replayedSignatures()).toEqual([signatures[0], undefined]);
    });

    it("returns it on the streamed call too, where the SDK's stream helper keeps it for the replay", async () => {
      h.gemini.enqueueScripts({ toolCalls: calls });
      const model = "ge/gemini-3-flash-preview";
      // The SDK's own accumulator (`.stream()` then `finalMessage()`), as agent loops use it.
      const stream = h.client.chat.completions.stream({ model, messages: [question], tools });
      const message = await stream.finalMessage();
      const signatures = (message.tool_calls ?? []).map(
        (t) => (t as Signed).extra_content?.google?.thought_signature,
      );
      expect(signatures.map((s) => typeof s)).toEqual(["string", "undefined"]);
      const ids = (message.tool_calls ?? []).map((t) => t.id);
      // Appended as the helper returns it, with its own `parsed` field.
      await h.client.chat.completions.create({
        model,
        tools,
        messages: [question, message, ...results(ids)],
      });
      expect(replayedSignatures()).toEqual([signatures[0], undefined]);
    });

    it("sends the documented skip value when the history carries no signature", async () => {
      const model = "ge/gemini-3-pro-preview";
      const assistant = {
        role: "assistant" as const,
        content: "",
        tool_calls: [
          { id: "c1", type: "function" as const, function: { name: "get_time", arguments: "{}" } },
        ],
      };
      const res = await h.client.chat.completions.create({
        model,
        tools,
        messages: [question, assistant, ...results(["c1"])],
      });
      expect(res.choices[0]?.finish_reason).toBe("stop");
      expect(replayedSignatures()).toEqual(["skip_thought_signature_validator"]);
    });

    it("takes the signature off a history replayed to OpenAI or Anthropic", async () => {
      const assistant = {
        role: "assistant" as const,
        content: null,
        tool_calls: [
          {
            id: "c1",
            type: "function" as const,
            function: { name: "get_time", arguments: "{}" },
            extra_content: { google: { thought_signature: "c2ln" } },
          },
        ],
      };
      for (const [model, sim] of [
        ["oa/gpt-sim", h.openai],
        ["an/claude-sim", h.anthropic],
      ] as const) {
        await h.client.chat.completions.create({
          model,
          tools,
          messages: [question, assistant, ...results(["c1"])],
        });
        const body = JSON.stringify(sim.requests.at(-1)?.body);
        expect(body).toContain("get_time");
        expect(body).not.toContain("extra_content");
        expect(body).not.toContain("c2ln");
      }
    });
  });

  describe("tool calls and their results", () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } },
    ];
    const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = {
      role: "user",
      content: "Weather in Paris and Rome?",
    };
    const weather = (...cities: string[]) => ({
      toolCalls: cities.map((city) => ({ name: "get_weather", arguments: { city } })),
    });
    const result = (id: string | undefined, temp: number) => ({
      role: "tool" as const,
      tool_call_id: id ?? "",
      content: JSON.stringify({ temp }),
    });

    it("gives Gemini the results of parallel calls in the order of the calls, whatever order they came in", async () => {
      h.gemini.enqueueScripts(weather("Paris", "Rome"));
      const first = await h.client.chat.completions.create({
        model: "ge/gemini-sim",
        tools,
        messages: [question],
      });
      const message = first.choices[0]!.message;
      const [paris, rome] = (message.tool_calls ?? []).map((t) => t.id);
      // A client running the tools concurrently appends Rome's result first; Gemini pairs by position.
      const second = await h.client.chat.completions.create({
        model: "ge/gemini-sim",
        tools,
        messages: [question, message, result(rome, 30), result(paris, 21)],
      });
      expect(second.choices[0]?.message.content).toBe(
        'Echo: get_weather({"city":"Paris"}) → {"temp":21}; get_weather({"city":"Rome"}) → {"temp":30}',
      );
    });

    it("gives every call an id of its own across turns, so the conversation can go on at Anthropic", async () => {
      h.gemini.enqueueScripts(weather("Paris"), weather("Rome"));
      const params = { model: "ge/gemini-sim", tools };
      const first = (await h.client.chat.completions.create({ ...params, messages: [question] })).choices[0]!
        .message;
      const firstTurn = [question, first, result(first.tool_calls?.[0]?.id, 21)];
      const second = await h.client.chat.completions
        .stream({ ...params, messages: firstTurn })
        .finalMessage();
      const ids = [first, second].flatMap((m) => (m.tool_calls ?? []).map((t) => t.id));
      expect(ids).toEqual([expect.stringMatching(/^call_\w+$/), expect.stringMatching(/^call_\w+$/)]);
      expect(new Set(ids).size).toBe(2);
      // Anthropic refuses a history whose tool_use ids repeat (400).
      const history = [...firstTurn, second, result(second.tool_calls?.[0]?.id, 30)];
      const claude = await h.client.chat.completions.create({
        model: "an/claude-sim",
        tools,
        messages: history,
      });
      expect(claude.choices[0]?.finish_reason).toBe("stop");
    });
  });

  it.each([
    ["ge/gemini-2.5-flash", { thinkingBudget: 8192 }],
    ["ge/gemini-3-flash-preview", { thinkingLevel: "MEDIUM" }],
    ["ge/gemini-3.1-pro-preview", { thinkingLevel: "MEDIUM" }],
    // Gemini 3 Pro has no MEDIUM (Google's 400): it thinks at the next level up instead.
    ["ge/gemini-3-pro-preview", { thinkingLevel: "HIGH" }],
  ])("asks %s to think the way that Gemini model takes it", async (model, thinking) => {
    const res = await h.client.chat.completions.create({
      model,
      reasoning_effort: "medium",
      messages: [{ role: "user", content: "think" }],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: think");
    const sent = h.gemini.requests.at(-1)?.body as { generationConfig: unknown };
    expect(sent.generationConfig).toEqual({ thinkingConfig: thinking });
  });

  it("sends penalties to Gemini 2.0, and refuses them for later models, which answer them with 400", async () => {
    const ask = (model: string) =>
      h.client.chat.completions
        .create({ model, presence_penalty: 0.5, messages: [{ role: "user", content: "hi" }] })
        .then(() => 200)
        .catch((e: { status?: number; code?: string }) => `${e.status} ${e.code}`);
    expect(await ask("ge/gemini-2.0-flash")).toBe(200);
    expect(h.gemini.requests.at(-1)?.body).toMatchObject({ generationConfig: { presencePenalty: 0.5 } });
    const calls = h.gemini.requests.length;
    expect(await ask("ge/gemini-2.5-flash")).toBe("400 unsupported_parameter");
    expect(h.gemini.requests.length).toBe(calls);
  });

  it.each([
    ["ge/gemini-2.5-pro", "none", "which cannot stop thinking"],
    ["ge/gemini-2.0-flash", "low", "which does not think"],
    ["ge/gemini-2.0-flash-lite", "high", "which does not think"],
  ] as const)("refuses %s an effort of %s, %s, before calling Gemini", async (model, effort, _why) => {
    const err = await h.client.chat.completions
      .create({ model, reasoning_effort: effort, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, param: "reasoning_effort", code: "unsupported_parameter" });
    expect(h.gemini.requests).toHaveLength(0);
  });

  it("asks Gemini 2.0 for no thinking at all when the effort is none, which it already is", async () => {
    const res = await h.client.chat.completions.create({
      model: "ge/gemini-2.0-flash",
      reasoning_effort: "none",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: hi");
    expect(h.gemini.requests.at(-1)?.body).not.toHaveProperty("generationConfig");
  });

  it("gives Gemini a refused turn whose content is empty as its refusal, between the user turns", async () => {
    const refused = "I can't help with that.";
    const res = await h.client.chat.completions.create({
      model: "ge/gemini-sim",
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: "", refusal: refused },
        { role: "user", content: "b" },
      ],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: b");
    expect(h.gemini.requests.at(-1)?.body).toMatchObject({
      contents: [
        { role: "user", parts: [{ text: "a" }] },
        { role: "model", parts: [{ text: refused }] },
        { role: "user", parts: [{ text: "b" }] },
      ],
    });
  });

  it("answers the empty user and tool text OpenAI takes, which Gemini itself would refuse", async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      { type: "function", function: { name: "run", parameters: { type: "object", properties: {} } } },
    ];
    const res = await h.client.chat.completions.create({
      model: "ge/gemini-sim",
      tools,
      messages: [
        { role: "user", content: "" },
        {
          role: "user",
          content: [
            { type: "text", text: "" },
            { type: "text", text: "go" },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "run", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c1", content: "" },
      ],
    });
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(h.gemini.requests.at(-1)?.body).toMatchObject({
      contents: [
        { role: "user", parts: [{ text: "go" }] },
        { role: "model", parts: [{ functionCall: { name: "run", args: {} } }] },
        { role: "user", parts: [{ functionResponse: { name: "run", response: { content: "" } } }] },
      ],
    });
  });

  it("answers a request with an empty system message, which Gemini itself would refuse", async () => {
    const r = await h.client.chat.completions.create({
      model: "ge/gemini-sim",
      messages: [
        { role: "system", content: "" },
        { role: "user", content: "hi" },
      ],
    });
    expect(r.choices[0]?.finish_reason).toBe("stop");
    expect(h.gemini.requests.at(-1)?.body).not.toHaveProperty("systemInstruction");
  });
});

describe("Gemini embeddings through the OpenAI SDK", () => {
  const model = "ge/gemini-embedding-001";
  const texts = (n: number) => Array.from({ length: n }, (_, i) => `text number ${i}`);
  type Batch = { requests: unknown[] };

  it("embeds more inputs than Google takes in one batch (100) as consecutive batches, in input order", async () => {
    // LangChain's OpenAIEmbeddings sends up to 1 000 inputs a call; 250 take three batches.
    const input = texts(250);
    const res = await h.client.embeddings.create({ model, input, encoding_format: "float" });
    expect(h.gemini.requests.map((r) => (r.body as Batch).requests.length)).toEqual([100, 100, 50]);
    expect(res.data.map((d) => d.index)).toEqual(input.map((_, i) => i));
    const one = await h.client.embeddings.create({
      model,
      input: input.slice(150, 151),
      encoding_format: "float",
    });
    expect(res.data[150]?.embedding).toEqual(one.data[0]?.embedding);
  });

  it("accounts a split request as the one request the caller sent, at the bound of its whole input", async () => {
    const input = texts(120);
    await h.client.embeddings.create({ model, input });
    expect(h.gemini.requests).toHaveLength(2);
    await expect.poll(() => h.outcomes.length).toBe(1);
    // Gemini counts no embedding tokens: the bound is the UTF-8 bytes plus 4 per input.
    const bound = input.reduce((sum, t) => sum + Buffer.byteLength(t) + 4, 0);
    expect(h.outcomes[0]).toMatchObject({ promptTokens: bound, usagePartial: true });
    expect(h.outcomes[0]?.attempts).toHaveLength(1);
  });

  it("fails a split request whose later batch fails, billing only the batch Gemini answered", async () => {
    const input = texts(150);
    await h.client.embeddings.create({ model, input });
    await expect.poll(() => h.outcomes.length).toBe(1);
    const whole = h.outcomes[0]!.costUsd!;
    expect(whole).toBeGreaterThan(0);

    h.gemini.enqueueFaults({ kind: "delay", ms: 0 }, { kind: "status", status: 400 });
    const err = await h.client.embeddings.create({ model, input }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400 });
    expect(h.gemini.requests).toHaveLength(4);
    await expect.poll(() => h.outcomes.length).toBe(2);
    const failed = h.outcomes[1]!;
    expect(failed.attempts[0]).toMatchObject({ outcome: "failed", answered: true });
    // Gemini answered the first 100 of 150 inputs: their part of the bound (bytes plus 4 an input).
    const bound = (t: string[]) => t.reduce((sum, x) => sum + Buffer.byteLength(x) + 4, 0);
    const answered = (whole * bound(input.slice(0, 100))) / bound(input);
    expect(failed.attempts[0]?.costUsd).toBeCloseTo(answered, 9);
    expect(failed.costUsd).toBeCloseTo(answered, 9);
  });

  it.each([
    ["base64, the SDK's default", undefined],
    ["floats", "float"],
  ] as const)(
    "returns vectors of a smaller dimensions at unit length, as OpenAI's, in %s",
    async (_, encoding_format) => {
      const res = await h.client.embeddings.create({
        model,
        input: ["alpha", "beta"],
        dimensions: 4,
        encoding_format,
      });
      expect(h.gemini.requests[0]?.body).toMatchObject({
        requests: [{ outputDimensionality: 4 }, { outputDimensionality: 4 }],
      });
      for (const d of res.data) {
        expect(d.embedding).toHaveLength(4);
        expect(Math.hypot(...d.embedding)).toBeCloseTo(1, 6);
      }
    },
  );
});
