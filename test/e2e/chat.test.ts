import OpenAI from "openai";
import type { RunnableToolFunctionWithParse } from "openai/lib/RunnableFunction";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { API_KEY, type Harness, PROVIDERS, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const USAGE = { input: 123, output: 45, cached: 7 };
const TEXT = "Grüße aus dem Simulator 🌍 — ok";

/** Concatenates a streamed answer the way an application would. */
async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let content = "";
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  const tools = new Map<number, { id?: string; name: string; args: string }>();
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      if (choice.finish_reason) finish = choice.finish_reason;
      for (const t of choice.delta.tool_calls ?? []) {
        const cur = tools.get(t.index) ?? { name: "", args: "" };
        if (t.id) cur.id = t.id;
        cur.name += t.function?.name ?? "";
        cur.args += t.function?.arguments ?? "";
        tools.set(t.index, cur);
      }
    }
  }
  return { content, finish, usage, tools, chunks };
}

describe.each(PROVIDERS)("chat completions through $name", ({ model, sim }) => {
  it("returns the provider's answer and the provider's own usage, not an estimate", async () => {
    sim(h).enqueueScripts({ text: TEXT, usage: USAGE });
    const { data, response } = await h.client.chat.completions
      .create({
        model,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe(TEXT);
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.usage).toMatchObject({ prompt_tokens: 123, completion_tokens: 45, total_tokens: 168 });
    expect(data.usage?.prompt_tokens_details?.cached_tokens).toBe(7);
    expect(response.headers.get("x-request-id")).toMatch(/[0-9a-f-]{36}/);
    expect(response.headers.get("x-gateway-provider")).toBe(model.split("/")[0]);
    expect(response.headers.get("x-gateway-model")).toBe(model.split("/")[1]);
  });

  it("streams the answer (UTF-8 split across reads) and reports usage only when asked", async () => {
    sim(h).enqueueScripts({ text: TEXT, usage: USAGE }, { text: TEXT, usage: USAGE });
    const withUsage = await collect(
      await h.client.chat.completions.create({
        model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "Hi" }],
      }),
    );
    expect(withUsage.content).toBe(TEXT);
    expect(withUsage.finish).toBe("stop");
    expect(withUsage.usage).toMatchObject({ prompt_tokens: 123, completion_tokens: 45 });
    expect(withUsage.chunks).toBeGreaterThan(5);

    const without = await collect(
      await h.client.chat.completions.create({
        model,
        stream: true,
        messages: [{ role: "user", content: "Hi" }],
      }),
    );
    expect(without.content).toBe(TEXT);
    expect(without.usage).toBeUndefined();
    // Usage is still taken from the provider for accounting even when the caller did not ask for it.
    // (Outcomes are reported after the last byte: the previous test's may land here late, so filter.)
    const streams = () => h.outcomes.filter((o) => o.stream);
    await expect.poll(() => streams().length).toBe(2);
    expect(streams()[1]).toMatchObject({
      promptTokens: 123,
      completionTokens: 45,
      cachedTokens: 7,
      status: 200,
      stream: true,
    });
  });

  it("carries parallel tool calls, streamed with the right indices", async () => {
    const calls = [
      { name: "get_weather", arguments: { city: "Paris", unit: "celsius" } },
      { name: "get_time", arguments: { tz: "Europe/Paris" } },
    ];
    sim(h).enqueueScripts(
      { toolCalls: calls, finish: "tool_calls" },
      { toolCalls: calls, finish: "tool_calls" },
    );
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = calls.map((c) => ({
      type: "function",
      function: {
        name: c.name,
        description: `calls ${c.name}`,
        parameters: { type: "object", properties: {} },
      },
    }));
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: "user", content: "weather and time in Paris?" },
    ];

    const plain = await h.client.chat.completions.create({ model, messages, tools, tool_choice: "auto" });
    expect(plain.choices[0]?.finish_reason).toBe("tool_calls");
    const got = plain.choices[0]?.message.tool_calls?.map((t) =>
      t.type === "function" ? [t.function.name, JSON.parse(t.function.arguments)] : [],
    );
    expect(got).toEqual(calls.map((c) => [c.name, c.arguments]));

    const streamed = await collect(
      await h.client.chat.completions.create({ model, messages, tools, stream: true }),
    );
    expect(streamed.finish).toBe("tool_calls");
    expect([...streamed.tools.keys()]).toEqual([0, 1]);
    expect([...streamed.tools.values()].map((t) => [t.name, JSON.parse(t.args)])).toEqual(
      calls.map((c) => [c.name, c.arguments]),
    );
    expect([...streamed.tools.values()].every((t) => typeof t.id === "string" && t.id.length > 0)).toBe(true);
  });

  it("takes back an assistant message as a client got it, response-only fields and all, and sends none of them on", async () => {
    // What openai-python sends for `messages.append(response.choices[0].message)` after an OpenAI answer,
    // plus the Node stream helper's `parsed`.
    const echoed = {
      role: "assistant",
      content: "Hello.",
      refusal: null,
      annotations: [],
      audio: null,
      function_call: null,
      parsed: null,
    } as unknown as OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam;
    const res = await h.client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Hi" }, echoed, { role: "user", content: "Again" }],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: Again");
    const sent = JSON.stringify(sim(h).requests.at(-1)?.body);
    expect(sent).toContain("Hello.");
    for (const field of ["annotations", "parsed", "audio", "function_call"])
      expect(sent).not.toContain(field);
  });

  it.each([false, true])("runs an agent loop with the SDK's runTools helper (stream: %s)", async (stream) => {
    sim(h).enqueueScripts(
      { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] },
      { text: "It is 21 °C in Paris." },
    );
    const seen: unknown[] = [];
    const weatherTool: RunnableToolFunctionWithParse<{ city: string }> = {
      type: "function",
      function: {
        name: "get_weather",
        description: "Current weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
        parse: (text) => JSON.parse(text) as { city: string },
        function: (args) => {
          seen.push(args);
          return { temp: 21 };
        },
      },
    };
    const body = {
      model,
      messages: [{ role: "user" as const, content: "Weather in Paris?" }],
      tools: [weatherTool],
    };
    const runner = stream
      ? h.client.chat.completions.runTools({ ...body, stream: true })
      : h.client.chat.completions.runTools(body);
    expect(await runner.finalContent()).toBe("It is 21 °C in Paris.");
    expect(seen).toEqual([{ city: "Paris" }]);
    // The second call carried the tool's result back to the provider.
    expect(JSON.stringify(sim(h).requests.at(-1)?.body)).toContain("21");
  });

  it("sends a whole tool round trip (assistant tool_calls, tool result, images) upstream and answers", async () => {
    const res = await h.client.chat.completions.create({
      model,
      temperature: 0.2,
      top_p: 0.9,
      max_completion_tokens: 64,
      stop: ["END"],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "answer",
          schema: {
            type: "object",
            properties: { a: { type: "string" } },
            required: ["a"],
            additionalProperties: false,
          },
        },
      },
      messages: [
        { role: "developer", content: "Answer in JSON." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in these?" },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"cat"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"result":"a cat"}' },
        { role: "user", content: "Thanks, summarise." },
      ],
      tools: [
        {
          type: "function",
          function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } },
        },
      ],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: Thanks, summarise.");
    const body = JSON.stringify(sim(h).requests.at(-1)?.body);
    // Every part reached the provider in its own dialect.
    for (const fragment of [
      "Answer in JSON.",
      "example.com/cat.png",
      "iVBORw0KGgo=",
      "a cat",
      "lookup",
      "END",
    ])
      expect(body).toContain(fragment);
  });
});

describe("provider-specific mapping", () => {
  it("refuses a parameter Anthropic cannot honour with 400 naming it", async () => {
    const err = await h.client.chat.completions
      .create({ model: "an/claude-sim", seed: 7, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, param: "seed", code: "unsupported_parameter" });
    expect(h.anthropic.requests).toHaveLength(0);
  });

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

  it("passes OpenAI's newer fields (verbosity, reasoning_effort none, prompt_cache_key, safety_identifier) through to OpenAI", async () => {
    const fields = {
      verbosity: "low",
      reasoning_effort: "none",
      prompt_cache_key: "tenant-7",
      safety_identifier: "hash-9",
    } as const;
    const stream = await h.client.chat.completions.create({
      model: "oa/gpt-sim",
      stream: true,
      stream_options: { include_obfuscation: false },
      messages: [{ role: "user", content: "?" }],
      ...fields,
    });
    for await (const _ of stream) {
      // drained
    }
    const sent = h.openai.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      ...fields,
      model: "gpt-sim",
      stream_options: { include_obfuscation: false, include_usage: true },
    });
  });

  it.each(["xhigh", "max"] as const)(
    "passes reasoning_effort %s, the OpenAI SDK's newest, through to OpenAI",
    async (effort) => {
      await h.client.chat.completions.create({
        model: "oa/gpt-sim",
        reasoning_effort: effort,
        messages: [{ role: "user", content: "?" }],
      });
      expect(h.openai.requests.at(-1)?.body).toMatchObject({ reasoning_effort: effort });
    },
  );

  describe("OpenAI's prompt-cache breakpoints", () => {
    const part = (text: string) => ({
      type: "text" as const,
      text,
      prompt_cache_breakpoint: { mode: "explicit" as const },
    });
    // Five cached turns: OpenAI writes the latest four; Anthropic refuses a fifth cache_control.
    const history: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: "system", content: [part("You are terse.")] },
      ...[1, 2, 3, 4].flatMap((k) => [
        { role: "user" as const, content: [part(`q${k}`)] },
        { role: "assistant" as const, content: `a${k}` },
      ]),
      { role: "user", content: "now?" },
    ];

    it("reach OpenAI as they are, with the retention and cache options", async () => {
      await h.client.chat.completions.create({
        model: "oa/gpt-sim",
        prompt_cache_retention: "24h",
        prompt_cache_options: { mode: "explicit", ttl: "30m" },
        messages: history,
      });
      const sent = h.openai.requests.at(-1)?.body as Record<string, unknown>;
      expect(sent).toMatchObject({
        prompt_cache_retention: "24h",
        prompt_cache_options: { mode: "explicit", ttl: "30m" },
      });
      expect(JSON.stringify(sent.messages).match(/prompt_cache_breakpoint/g)).toHaveLength(5);
    });

    it("reach Anthropic as cache_control on the last four, with the 1-hour TTL for OpenAI's 30 minutes", async () => {
      const res = await h.client.chat.completions.create({
        model: "an/claude-sim",
        prompt_cache_options: { ttl: "30m" },
        messages: history,
      });
      expect(res.choices[0]?.finish_reason).toBe("stop");
      const sent = h.anthropic.requests.at(-1)?.body as {
        system: Array<{ cache_control?: unknown }>;
        messages: Array<{ content: string | Array<{ text: string; cache_control?: unknown }> }>;
      };
      expect(sent.system[0]?.cache_control).toBeUndefined();
      const cached = sent.messages.flatMap((m) =>
        typeof m.content === "string" ? [] : m.content.filter((b) => b.cache_control).map((b) => b.text),
      );
      expect(cached).toEqual(["q1", "q2", "q3", "q4"]);
      expect(JSON.stringify(sent)).toContain('"cache_control":{"type":"ephemeral","ttl":"1h"}');
    });
  });

  it.each([false, true])(
    "passes OpenAI's usage details on as OpenAI sent them (stream: %s)",
    async (stream) => {
      h.openai.enqueueScripts({ usage: { input: 900, output: 40, cached: 600, reasoning: 12 } });
      let usage: OpenAI.CompletionUsage | undefined | null;
      if (stream) {
        const chunks = await h.client.chat.completions.create({
          model: "oa/gpt-sim",
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: "user", content: "?" }],
        });
        for await (const c of chunks) usage = c.usage ?? usage;
      } else {
        usage = (
          await h.client.chat.completions.create({
            model: "oa/gpt-sim",
            messages: [{ role: "user", content: "?" }],
          })
        ).usage;
      }
      expect(usage).toEqual({
        prompt_tokens: 900,
        completion_tokens: 40,
        total_tokens: 940,
        prompt_tokens_details: { cached_tokens: 600, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 12,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      });
    },
  );

  describe("tool_choice allowed_tools", () => {
    const fn = (name: string): OpenAI.Chat.Completions.ChatCompletionTool => ({
      type: "function",
      function: { name, parameters: { type: "object", properties: {} } },
    });
    const params = {
      tools: [fn("get_weather"), fn("get_time"), fn("send_email")],
      tool_choice: {
        type: "allowed_tools" as const,
        allowed_tools: {
          mode: "required" as const,
          tools: [{ type: "function", function: { name: "get_time" } }],
        },
      },
      messages: [{ role: "user" as const, content: "What time is it?" }],
    };

    it("reaches OpenAI as it is", async () => {
      await h.client.chat.completions.create({ model: "oa/gpt-sim", ...params });
      expect(h.openai.requests.at(-1)?.body).toMatchObject({ tool_choice: params.tool_choice });
    });

    it("offers Anthropic only the allowed tools, one of which it must call", async () => {
      h.anthropic.enqueueScripts({ toolCalls: [{ name: "get_time", arguments: {} }] });
      const res = await h.client.chat.completions.create({ model: "an/claude-sim", ...params });
      expect(res.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: "get_time" } });
      const sent = h.anthropic.requests.at(-1)?.body as {
        tools: Array<{ name: string }>;
        tool_choice: unknown;
      };
      expect(sent.tools.map((t) => t.name)).toEqual(["get_time"]);
      expect(sent.tool_choice).toEqual({ type: "any" });
    });

    it("offers Gemini only the allowed tools, one of which it must call", async () => {
      h.gemini.enqueueScripts({ toolCalls: [{ name: "get_time", arguments: {} }] });
      await h.client.chat.completions.create({ model: "ge/gemini-2.5-flash", ...params });
      const sent = h.gemini.requests.at(-1)?.body as {
        tools: Array<{ functionDeclarations: Array<{ name: string }> }>;
        toolConfig: unknown;
      };
      expect(sent.tools[0]?.functionDeclarations.map((d) => d.name)).toEqual(["get_time"]);
      expect(sent.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
    });
  });

  it.each([
    ["OpenAI's", "oa/gpt-sim", false],
    ["OpenAI's", "oa/gpt-sim", true],
    ["Gemini's", "ge/gemini-2.5-flash", false],
    ["Gemini's", "ge/gemini-2.5-flash", true],
  ])("passes %s log probabilities on to a caller who asked (%s, stream: %s)", async (_, model, stream) => {
    const params = {
      model,
      logprobs: true,
      top_logprobs: 3,
      messages: [{ role: "user" as const, content: "tokens please" }],
    };
    const tokens: OpenAI.Chat.Completions.ChatCompletionTokenLogprob[] = [];
    let text = "";
    if (stream) {
      for await (const c of await h.client.chat.completions.create({ ...params, stream: true })) {
        tokens.push(...(c.choices[0]?.logprobs?.content ?? []));
        text += c.choices[0]?.delta.content ?? "";
      }
    } else {
      const res = await h.client.chat.completions.create(params);
      tokens.push(...(res.choices[0]?.logprobs?.content ?? []));
      text = res.choices[0]?.message.content ?? "";
    }
    expect(text).toBe("Echo: tokens please");
    expect(tokens.map((t) => t.token).join("")).toBe(text);
    expect(tokens[0]).toMatchObject({ logprob: expect.any(Number), bytes: expect.any(Array) });
    expect(tokens[0]?.top_logprobs).toHaveLength(3);
  });

  it.each([false, true])("says which OpenAI service tier served the request (stream: %s)", async (stream) => {
    const params = {
      model: "oa/gpt-sim",
      service_tier: "flex" as const,
      messages: [{ role: "user" as const, content: "?" }],
    };
    const tiers: Array<string | null | undefined> = [];
    if (stream)
      for await (const c of await h.client.chat.completions.create({ ...params, stream: true }))
        tiers.push(c.service_tier);
    else tiers.push((await h.client.chat.completions.create(params)).service_tier);
    expect(new Set(tiers)).toEqual(new Set(["flex"]));
  });

  /** The part at `index` of the first content the Gemini simulator last received. */
  const sentGeminiPart = (index: number) =>
    (h.gemini.requests.at(-1)?.body as { contents?: Array<{ parts: unknown[] }> } | undefined)?.contents?.[0]
      ?.parts[index];

  describe("an input_audio part", () => {
    const WAV = Buffer.from("RIFF$\u0000\u0000\u0000WAVEfmt ").toString("base64");
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      {
        role: "user",
        content: [
          { type: "text", text: "Transcribe." },
          { type: "input_audio", input_audio: { data: WAV, format: "wav" } },
        ],
      },
    ];

    it("reaches OpenAI as it is", async () => {
      await h.client.chat.completions.create({ model: "oa/gpt-sim", messages });
      expect(JSON.stringify(h.openai.requests.at(-1)?.body)).toContain(`"input_audio":{"data":"${WAV}"`);
    });

    it("reaches Gemini as inline audio", async () => {
      await h.client.chat.completions.create({ model: "ge/gemini-2.5-flash", messages });
      expect(sentGeminiPart(1)).toEqual({ inlineData: { mimeType: "audio/wav", data: WAV } });
    });

    it("is refused for Anthropic, which takes no audio, naming the part", async () => {
      const err = await h.client.chat.completions
        .create({ model: "an/claude-sim", messages })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, param: "messages[0].content[1]" });
    });
  });

  describe("a PDF file part", () => {
    const PDF = Buffer.from("%PDF-1.7\n% a tiny document\n").toString("base64");
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      {
        role: "user",
        content: [
          { type: "text", text: "Summarise this." },
          { type: "file", file: { file_data: `data:application/pdf;base64,${PDF}`, filename: "terms.pdf" } },
        ],
      },
    ];

    it("reaches OpenAI as it is", async () => {
      await h.client.chat.completions.create({ model: "oa/gpt-sim", messages });
      expect(JSON.stringify(h.openai.requests.at(-1)?.body)).toContain(`"filename":"terms.pdf"`);
    });

    it("reaches Anthropic as a document block", async () => {
      await h.client.chat.completions.create({ model: "an/claude-sim", messages });
      const sent = h.anthropic.requests.at(-1)?.body as { messages: Array<{ content: unknown[] }> };
      expect(sent.messages[0]?.content[1]).toEqual({
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: PDF },
        title: "terms.pdf",
      });
    });

    it("reaches Gemini as inline data", async () => {
      await h.client.chat.completions.create({ model: "ge/gemini-2.5-flash", messages });
      expect(sentGeminiPart(1)).toEqual({ inlineData: { mimeType: "application/pdf", data: PDF } });
    });

    it("refuses an OpenAI file id for Anthropic, naming it", async () => {
      const err = await h.client.chat.completions
        .create({
          model: "an/claude-sim",
          messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file-abc123" } }] }],
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, param: "messages[0].content[0].file.file_id" });
    });
  });

  it("sends a provider's configured headers with each call, next to the gateway's own", async () => {
    await h.client.chat.completions.create({
      model: "an/claude-sim",
      messages: [{ role: "user", content: "?" }],
    });
    const headers = h.anthropic.requests.at(-1)?.headers ?? {};
    expect(headers["anthropic-beta"]).toBe("context-1m-2025-08-07");
    expect(headers["x-api-key"]).toBe("test-key");
    expect(headers["anthropic-version"]).toBe("2023-06-01");
    // Only that provider's calls carry them.
    await h.client.chat.completions.create({
      model: "oa/gpt-sim",
      messages: [{ role: "user", content: "?" }],
    });
    expect(h.openai.requests.at(-1)?.headers).not.toHaveProperty("anthropic-beta");
  });

  it.each([
    ["ge/gemini-2.5-flash", { thinkingBudget: 8192 }],
    ["ge/gemini-3-pro-preview", { thinkingLevel: "MEDIUM" }],
  ])("asks %s to think the way that Gemini generation takes it", async (model, thinking) => {
    const res = await h.client.chat.completions.create({
      model,
      reasoning_effort: "medium",
      messages: [{ role: "user", content: "think" }],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: think");
    const sent = h.gemini.requests.at(-1)?.body as { generationConfig: unknown };
    expect(sent.generationConfig).toEqual({ thinkingConfig: thinking });
  });

  describe("Anthropic extended thinking (reasoning_effort)", () => {
    type Carried = { extra_content?: { anthropic?: { thinking_blocks?: Array<{ type: string }> } } };
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } },
    ];
    const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = {
      role: "user",
      content: "Weather?",
    };
    const call = { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] };
    const sentTurn = () => {
      const body = h.anthropic.requests.at(-1)?.body as {
        thinking?: unknown;
        messages: Array<{ role: string; content: Array<{ type: string }> }>;
      };
      return { thinking: body.thinking, types: body.messages[1]?.content.map((b) => b.type) };
    };

    it("thinks, returns the thinking with the tool call, and sends it back first in the next turn", async () => {
      h.anthropic.enqueueScripts(call);
      const model = "an/claude-sim";
      const first = await h.client.chat.completions.create({
        model,
        reasoning_effort: "low",
        tools,
        messages: [question],
      });
      expect(sentTurn().thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
      const message = first.choices[0]?.message;
      expect(message?.content).toBeNull();
      const carried = (message?.tool_calls?.[0] as Carried | undefined)?.extra_content?.anthropic
        ?.thinking_blocks;
      expect(carried?.map((b) => b.type)).toEqual(["thinking"]);

      const id = message?.tool_calls?.[0]?.id ?? "";
      const second = await h.client.chat.completions.create({
        model,
        reasoning_effort: "low",
        tools,
        messages: [question, message!, { role: "tool", tool_call_id: id, content: '{"temp":21}' }],
      });
      expect(second.choices[0]?.finish_reason).toBe("stop");
      expect(sentTurn().types).toEqual(["thinking", "tool_use"]);
    });

    it("does the same through the SDK's stream helper", async () => {
      h.anthropic.enqueueScripts(call);
      const model = "an/claude-sim";
      const stream = h.client.chat.completions.stream({
        model,
        reasoning_effort: "medium",
        tools,
        messages: [question],
      });
      const message = await stream.finalMessage();
      const id = message.tool_calls?.[0]?.id ?? "";
      await h.client.chat.completions.create({
        model,
        reasoning_effort: "medium",
        tools,
        messages: [question, message, { role: "tool", tool_call_id: id, content: "21" }],
      });
      expect(sentTurn()).toEqual({
        thinking: { type: "enabled", budget_tokens: 8192 },
        types: ["thinking", "tool_use"],
      });
    });

    it.each([
      ["non-stream", false],
      ["the stream helper", true],
    ])(
      "asks Claude 4.6 and later to think adaptively, and keeps its tool loop going (%s)",
      async (_, streamed) => {
        h.anthropic.enqueueScripts(call);
        const model = "an/claude-opus-4-8";
        const params = { model, reasoning_effort: "xhigh" as const, tools, messages: [question] };
        const message = streamed
          ? await h.client.chat.completions.stream(params).finalMessage()
          : (await h.client.chat.completions.create(params)).choices[0]!.message;
        const sent = h.anthropic.requests.at(-1)?.body as { thinking: unknown; output_config: unknown };
        expect(sent.thinking).toEqual({ type: "adaptive" });
        expect(sent.output_config).toEqual({ effort: "xhigh" });
        // Opus 4.8 omits the thinking text by default; the block (signature) still has to come back.
        const carried = (message.tool_calls?.[0] as Carried | undefined)?.extra_content?.anthropic
          ?.thinking_blocks;
        expect(carried).toMatchObject([{ type: "thinking", thinking: "" }]);
        const id = message.tool_calls?.[0]?.id ?? "";
        const second = await h.client.chat.completions.create({
          ...params,
          messages: [question, message, { role: "tool", tool_call_id: id, content: "21" }],
        });
        expect(second.choices[0]?.finish_reason).toBe("stop");
        expect(sentTurn().types).toEqual(["thinking", "tool_use"]);
      },
    );

    it.each([
      ["non-stream", false],
      ["the stream helper", true],
    ])(
      "returns interleaved thinking with the call it led to, and replays it in place (%s)",
      async (_, streamed) => {
        h.anthropic.enqueueScripts({
          toolCalls: [
            { name: "get_weather", arguments: { city: "Paris" } },
            { name: "get_weather", arguments: { city: "Rome" } },
          ],
        });
        const params = {
          model: "an/claude-opus-4-8",
          reasoning_effort: "high" as const,
          tools,
          messages: [question],
        };
        const message = streamed
          ? await h.client.chat.completions.stream(params).finalMessage()
          : (await h.client.chat.completions.create(params)).choices[0]!.message;
        const carried = message.tool_calls?.map(
          (t) => (t as Carried).extra_content?.anthropic?.thinking_blocks?.length ?? 0,
        );
        expect(carried).toEqual([1, 1]);
        const results = (message.tool_calls ?? []).map((t) => ({
          role: "tool" as const,
          tool_call_id: t.id,
          content: "21",
        }));
        // Anthropic checks each block against its place: out of order, it is "Invalid signature" (400).
        const second = await h.client.chat.completions.create({
          ...params,
          messages: [question, message, ...results],
        });
        expect(second.choices[0]?.finish_reason).toBe("stop");
        expect(sentTurn().types).toEqual(["thinking", "tool_use", "thinking", "tool_use"]);
      },
    );

    it("passes on Anthropic's refusal when a tool loop's history lost its thinking", async () => {
      const history: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
        question,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "21" },
      ];
      const err = await h.client.chat.completions
        .create({ model: "an/claude-sim", reasoning_effort: "low", tools, messages: history })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400 });
      expect(String((err as Error).message)).toMatch(/thinking/);
      // Without reasoning_effort the same history is fine.
      const plain = await h.client.chat.completions.create({
        model: "an/claude-sim",
        tools,
        messages: history,
      });
      expect(plain.choices[0]?.finish_reason).toBe("stop");
    });
  });

  describe("what the newest Claude models refuse: sampling parameters, a prefill", () => {
    const hi: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: "user", content: "hi" }];

    it("answers a request carrying OpenAI's defaults, which are not sent on", async () => {
      const r = await h.client.chat.completions.create({
        model: "an/claude-opus-4-8",
        temperature: 1,
        top_p: 1,
        messages: hi,
      });
      expect(r.choices[0]?.finish_reason).toBe("stop");
      expect(h.anthropic.requests.at(-1)?.body).not.toHaveProperty("temperature");
    });

    it("refuses another temperature with 400 naming it, before calling Anthropic", async () => {
      const before = h.anthropic.requests.length;
      const err = await h.client.chat.completions
        .create({ model: "an/claude-opus-4-8", temperature: 0.2, messages: hi })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err).toMatchObject({ param: "temperature", code: "unsupported_parameter" });
      expect(h.anthropic.requests.length).toBe(before);
    });

    it("refuses a final assistant message (a prefill), which Claude 4.6 and later do not continue", async () => {
      const before = h.anthropic.requests.length;
      const err = await h.client.chat.completions
        .create({
          model: "an/claude-opus-4-8",
          messages: [...hi, { role: "assistant", content: "{" }],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err).toMatchObject({ param: "messages[1]", code: "unsupported_parameter" });
      expect(h.anthropic.requests.length).toBe(before);
    });

    it("falls back to a target that honours the temperature", async () => {
      const { data, response } = await h.client.chat.completions
        .create({ model: "opus-first", temperature: 0.2, messages: hi })
        .withResponse();
      expect(data.choices[0]?.finish_reason).toBe("stop");
      expect(response.headers.get("x-gateway-provider")).toBe("oa");
      expect(h.openai.requests.at(-1)?.body).toMatchObject({ temperature: 0.2 });
    });
  });

  it("skips Anthropic thinking blocks in a stream", async () => {
    h.anthropic.enqueueScripts({ text: "Answer.", reasoning: "hidden chain of thought" });
    const streamed = await collect(
      await h.client.chat.completions.create({
        model: "an/claude-sim",
        stream: true,
        messages: [{ role: "user", content: "?" }],
      }),
    );
    expect(streamed.content).toBe("Answer.");
  });

  it("resolves a registry alias to its first target", async () => {
    const { data, response } = await h.client.chat.completions
      .create({ model: "smart", messages: [{ role: "user", content: "alias" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: alias");
    expect(response.headers.get("x-gateway-provider")).toBe("an");
    expect(h.anthropic.requests.at(-1)?.body).toMatchObject({ model: "claude-sim", max_tokens: 4096 });
  });

  it("serves the built-in mock provider with no provider account", async () => {
    const streamed = await collect(
      await h.client.chat.completions.create({
        model: "mock/echo",
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "one two three" }],
      }),
    );
    expect(streamed.content).toBe("Echo: one two three");
    expect(streamed.chunks).toBeGreaterThanOrEqual(5);
    expect(streamed.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4 });
  });
});

describe("models and embeddings", () => {
  it("lists what the key may use", async () => {
    const ids: string[] = [];
    for await (const m of h.client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["smart", "us-only", "eu-chat", "oa/gpt-sim", "mock/echo"]));
    expect(ids.some((id) => id.startsWith("off/"))).toBe(false);
  });

  it.each([
    ["openai", "oa/text-embedding-sim"],
    ["gemini", "ge/gemini-embedding-sim"],
    ["mock", "mock/echo"],
  ])("embeds through %s with the SDK's default base64 encoding and with floats", async (_name, model) => {
    const viaDefault = await h.client.embeddings.create({ model, input: ["alpha", "beta"] });
    expect(viaDefault.data).toHaveLength(2);
    expect(viaDefault.data[0]?.embedding.length).toBeGreaterThan(0);
    const floats = await h.client.embeddings.create({ model, input: "alpha", encoding_format: "float" });
    // base64 carries float32: the same vector, rounded to float32.
    expect(floats.data[0]?.embedding.map((v) => Math.fround(v))).toEqual(viaDefault.data[0]?.embedding);
  });

  it.each([
    ["a batch of token arrays", [[9906, 1917], [15339]], 2],
    ["one token array", [9906, 1917, 0], 1],
  ])("takes %s (LangChain's default) and sends it to OpenAI as it is", async (_, input, count) => {
    const res = await h.client.embeddings.create({ model: "oa/text-embedding-sim", input });
    expect(res.data).toHaveLength(count);
    expect(h.openai.requests.at(-1)?.body).toMatchObject({ input });
  });

  it("refuses token arrays for Gemini, which embeds text only, naming input", async () => {
    const err = await h.client.embeddings
      .create({ model: "ge/gemini-embedding-sim", input: [[9906, 1917]] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, param: "input", code: "unsupported_parameter" });
    expect(h.gemini.requests).toHaveLength(0);
  });

  it("refuses embeddings on Anthropic, which has no embeddings API", async () => {
    const err = await h.client.embeddings
      .create({ model: "an/claude-sim", input: "x" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: "embeddings_not_supported" });
  });

  it("answers the health check without a key", async () => {
    const res = await fetch(`${h.gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(API_KEY).toBeTruthy();
  });
});
