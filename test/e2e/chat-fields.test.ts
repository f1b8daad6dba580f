import type OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

/** OpenAI's newer request fields and content parts, and what each provider makes of them. */
describe("OpenAI's newer fields across providers", () => {
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

  it("passes web_search_options to OpenAI and refuses it, naming it, for Anthropic and Gemini", async () => {
    const web_search_options = { search_context_size: "low" as const };
    const messages = [{ role: "user" as const, content: "News?" }];
    await h.client.chat.completions.create({ model: "oa/gpt-sim", web_search_options, messages });
    expect(h.openai.requests.at(-1)?.body).toMatchObject({ web_search_options });
    for (const model of ["an/claude-sim", "ge/gemini-sim"]) {
      const err = await h.client.chat.completions
        .create({ model, web_search_options, messages })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, code: "unsupported_parameter", param: "web_search_options" });
    }
  });

  it.each(["oa/gpt-sim", "an/claude-sim", "ge/gemini-sim"])(
    "takes null for the fields the SDK types as nullable, as left out (%s)",
    async (model) => {
      const res = await h.client.chat.completions.create({
        model,
        messages: [{ role: "user", content: "?" }],
        audio: null,
        moderation: null,
        prompt_cache_key: null,
        safety_identifier: null,
      });
      expect(res.choices[0]?.message.content).toBeTruthy();
    },
  );

  it("passes moderation to OpenAI, gives back its results, stream or not, and refuses it for Anthropic and Gemini", async () => {
    const moderation = { model: "omni-moderation-latest" };
    const results = {
      input: { type: "moderation_results", model: "omni-moderation-latest", results: [] },
      output: { type: "moderation_results", model: "omni-moderation-latest", results: [] },
    };
    const messages = [{ role: "user" as const, content: "?" }];
    const answer = {
      id: "chatcmpl-m",
      object: "chat.completion",
      created: 1,
      model: "gpt-sim",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      moderation: results,
    };
    h.openai.enqueueFaults({ kind: "status", status: 200, body: JSON.stringify(answer) });
    const res = await h.client.chat.completions.create({ model: "oa/gpt-sim", moderation, messages });
    expect(h.openai.requests.at(-1)?.body).toMatchObject({ moderation });
    expect(res.moderation).toEqual(results);

    const chunk = (fields: object) =>
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "gpt-sim", ...fields })}\n\n`;
    const sse =
      chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "ok" }, finish_reason: null }] }) +
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) +
      chunk({ choices: [], moderation: results }) +
      chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }) +
      "data: [DONE]\n\n";
    h.openai.enqueueFaults({
      kind: "status",
      status: 200,
      body: sse,
      headers: { "content-type": "text/event-stream" },
    });
    const stream = await h.client.chat.completions.create({
      model: "oa/gpt-sim",
      moderation,
      messages,
      stream: true,
    });
    const seen: unknown[] = [];
    for await (const c of stream) if (c.moderation) seen.push(c.moderation);
    expect(seen).toEqual([results]);

    for (const model of ["an/claude-sim", "ge/gemini-sim"]) {
      const err = await h.client.chat.completions
        .create({ model, moderation, messages })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, code: "unsupported_parameter", param: "moderation" });
    }
  });

  it.each([
    ["OpenAI, as it is", "oa/gpt-sim", true],
    ["not to Anthropic, which has no such thing", "an/claude-sim", false],
    ["not to Gemini, which has no such thing", "ge/gemini-sim", false],
  ])("sends a prediction (Predicted Outputs) to %s", async (_, model, sent) => {
    const prediction = { type: "content" as const, content: "const answer = 42;" };
    const r = await h.client.chat.completions.create({
      model,
      prediction,
      modalities: ["text"],
      messages: [{ role: "user", content: "Rename the constant." }],
    });
    expect(r.choices[0]?.finish_reason).toBe("stop");
    const sim = { oa: h.openai, an: h.anthropic, ge: h.gemini }[model.split("/")[0] as "oa" | "an" | "ge"];
    const body = sim.requests.at(-1)?.body as Record<string, unknown>;
    if (sent) expect(body).toMatchObject({ prediction, modalities: ["text"] });
    else expect(JSON.stringify(body)).not.toContain("const answer");
  });

  it("sends max_tokens to an OpenAI reasoning model as max_completion_tokens, which is all it takes", async () => {
    const r = await h.client.chat.completions.create({
      model: "oa/gpt-5.4",
      max_tokens: 64,
      messages: [{ role: "user", content: "?" }],
    });
    expect(r.choices[0]?.finish_reason).toBe("stop");
    const body = h.openai.requests.at(-1)?.body as Record<string, unknown>;
    expect(body).toMatchObject({ max_completion_tokens: 64 });
    expect(body).not.toHaveProperty("max_tokens");
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

  /** The answer's text and its tokens' log probabilities, as the SDK gives them, streamed or not. */
  async function withLogprobs(model: string, content: string, top: number, stream: boolean) {
    const params = {
      model,
      logprobs: true,
      top_logprobs: top,
      messages: [{ role: "user" as const, content }],
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
    return { text, tokens };
  }

  it.each([
    ["OpenAI's", "oa/gpt-sim", false],
    ["OpenAI's", "oa/gpt-sim", true],
    ["Gemini's", "ge/gemini-2.5-flash", false],
    ["Gemini's", "ge/gemini-2.5-flash", true],
  ])("passes %s log probabilities on to a caller who asked (%s, stream: %s)", async (_, model, stream) => {
    const { text, tokens } = await withLogprobs(model, "tokens please", 3, stream);
    expect(text).toBe("Echo: tokens please");
    expect(tokens.map((t) => t.token).join("")).toBe(text);
    expect(tokens[0]).toMatchObject({ logprob: expect.any(Number), bytes: expect.any(Array) });
    expect(tokens[0]?.top_logprobs).toHaveLength(3);
  });

  it.each([
    ["oa/gpt-sim", false],
    ["oa/gpt-sim", true],
    ["ge/gemini-2.5-flash", false],
    ["ge/gemini-2.5-flash", true],
  ])(
    "gives no log probabilities that spell the credential an answer repeated (%s, stream: %s)",
    async (model, stream) => {
      // The harness's provider credential is "test-key"; the simulators echo the prompt.
      const { text, tokens } = await withLogprobs(model, "my key is test-key", 2, stream);
      expect(text).toBe("Echo: my key is [REDACTED]");
      expect(JSON.stringify(tokens)).not.toContain("test");
    },
  );

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

    it.each([false, true])(
      "is priced at Gemini's audio price, which Gemini 2.5 Flash bills above text (stream: %s)",
      async (stream) => {
        // 3 200 audio and 20 text tokens in, 100 out: $1.00, $0.30 and $2.50 per million.
        h.gemini.enqueueScripts({ text: "Transcript.", usage: { input: 3_220, audio: 3_200, output: 100 } });
        let usage: OpenAI.Completions.CompletionUsage | undefined | null;
        if (stream) {
          const chunks = await h.client.chat.completions.create({
            model: "ge/gemini-2.5-flash",
            messages,
            stream: true,
            stream_options: { include_usage: true },
          });
          for await (const c of chunks) usage = c.usage ?? usage;
        } else
          usage = (await h.client.chat.completions.create({ model: "ge/gemini-2.5-flash", messages })).usage;
        expect(usage?.prompt_tokens_details).toMatchObject({ audio_tokens: 3_200 });
        await expect.poll(() => h.outcomes.length).toBe(1);
        expect(h.outcomes[0]).toMatchObject({ audioTokens: 3_200, promptTokens: 3_220 });
        expect(h.outcomes[0]?.costUsd).toBeCloseTo((3_200 * 1 + 20 * 0.3 + 100 * 2.5) / 1e6, 12);
      },
    );

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
});
