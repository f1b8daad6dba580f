import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_API_KEY, type Simulator, startAnthropicSimulator } from "./index.ts";

let sim: Simulator;
let client: Anthropic;
const model = "claude-sonnet-4-6";

beforeAll(async () => {
  sim = await startAnthropicSimulator();
  client = new Anthropic({ apiKey: DEFAULT_API_KEY, baseURL: sim.url, maxRetries: 0 });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const textOf = (content: Anthropic.ContentBlock[]): string =>
  content.map((b) => (b.type === "text" ? b.text : "")).join("");

describe("Anthropic simulator via the official SDK", () => {
  it("non-stream text: echo + usage split into uncached input and cache reads", async () => {
    const res = await client.messages.create({
      model,
      max_tokens: 100,
      system: "be brief",
      messages: [
        { role: "user", content: "first" },
        { role: "assistant", content: "ok" },
        {
          role: "user",
          content: [
            { type: "text", text: "größe " },
            { type: "text", text: "😀" },
          ],
        },
      ],
    });
    expect(res.type).toBe("message");
    expect(textOf(res.content)).toBe("Echo: größe 😀");
    expect(res.stop_reason).toBe("end_turn");
    const bytes = Buffer.byteLength(JSON.stringify(sim.requests[0]?.body));
    const input = 7 + 3 * 3 + (bytes % 13);
    expect(res.usage.input_tokens + (res.usage.cache_read_input_tokens ?? 0)).toBe(input);
    expect(res.usage.cache_read_input_tokens).toBe(2);
    expect(res.usage.output_tokens).toBe(5 + ([..."Echo: größe 😀"].length % 11));
    expect(sim.requests[0]?.headers["anthropic-version"]).toBeDefined();
  });

  it("stream text: event sequence, reassembled text and usage", async () => {
    const stream = client.messages.stream({
      model,
      max_tokens: 100,
      messages: [{ role: "user", content: "streaming ✓ text" }],
    });
    const types: string[] = [];
    let text = "";
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
    }
    const final = await stream.finalMessage();
    expect(text).toBe("Echo: streaming ✓ text");
    expect(textOf(final.content)).toBe(text);
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(types.filter((t) => t === "content_block_delta").length).toBeGreaterThan(3);
    expect(final.usage.output_tokens).toBe(5 + ([...text].length % 11));
    expect(final.usage.cache_read_input_tokens).toBe(2);
    expect(final.stop_reason).toBe("end_turn");
  });

  it("tool calls, non-stream and stream (input_json_delta pieces)", async () => {
    const toolCalls = [
      { name: "get_weather", arguments: { city: "Zürich", days: 3, nested: { a: [1, 2] } } },
    ];
    sim.enqueueScripts({ text: "Let me check.", toolCalls }, { toolCalls });
    const tools: Anthropic.Tool[] = [{ name: "get_weather", input_schema: { type: "object" } }];
    const res = await client.messages.create({
      model,
      max_tokens: 50,
      tools,
      messages: [{ role: "user", content: "w" }],
    });
    expect(res.stop_reason).toBe("tool_use");
    expect(textOf(res.content)).toBe("Let me check.");
    const use = res.content.find((b) => b.type === "tool_use");
    expect(use?.type === "tool_use" ? [use.name, use.input, use.id.startsWith("toolu_")] : null).toEqual([
      "get_weather",
      toolCalls[0]?.arguments,
      true,
    ]);

    const stream = client.messages.stream({
      model,
      max_tokens: 50,
      tools,
      messages: [{ role: "user", content: "w" }],
    });
    let pieces = 0;
    stream.on("inputJson", () => pieces++);
    const final = await stream.finalMessage();
    const streamed = final.content.find((b) => b.type === "tool_use");
    expect(streamed?.type === "tool_use" ? [streamed.name, streamed.input] : null).toEqual([
      "get_weather",
      toolCalls[0]?.arguments,
    ]);
    expect(pieces).toBeGreaterThan(3);
    expect(final.stop_reason).toBe("tool_use");
  });

  it("streams a call without input as one empty partial_json and no JSON, as Anthropic does", async () => {
    sim.enqueueScripts({ toolCalls: [{ name: "get_time", arguments: {} }] });
    const stream = client.messages.stream({
      model,
      max_tokens: 50,
      tools: [{ name: "get_time", input_schema: { type: "object" } }],
      messages: [{ role: "user", content: "time?" }],
    });
    const partials: string[] = [];
    for await (const ev of stream)
      if (ev.type === "content_block_delta" && ev.delta.type === "input_json_delta")
        partials.push(ev.delta.partial_json);
    expect(partials).toEqual([""]);
    const use = (await stream.finalMessage()).content.find((b) => b.type === "tool_use");
    expect(use?.type === "tool_use" ? use.input : null).toEqual({});
  });

  it("refuses a conversation that repeats a tool_use id, as Anthropic does", async () => {
    const turn = (id: string): Anthropic.MessageParam[] => [
      { role: "assistant", content: [{ type: "tool_use", id, name: "get_time", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "noon" }] },
    ];
    const ask = (ids: string[]) =>
      client.messages
        .create({
          model,
          max_tokens: 5,
          messages: [{ role: "user", content: "time?" }, ...ids.flatMap(turn)],
        })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof Anthropic.APIError ? `${e.status} ${e.message}` : e));
    expect(await ask(["call_a", "call_b"])).toBe(200);
    expect(await ask(["call_0", "call_0"])).toMatch(
      /^400 .*messages\.3\.content\.0: `tool_use` ids must be unique/,
    );
  });

  it("thinking block, non-stream and stream (with signature)", async () => {
    const script = { reasoning: "Let me think about ü…", text: "Answer." };
    sim.enqueueScripts(script, script);
    const res = await client.messages.create({
      model,
      max_tokens: 50,
      messages: [{ role: "user", content: "q" }],
    });
    expect(res.content[0]).toMatchObject({ type: "thinking", thinking: script.reasoning });
    expect(res.content[0]?.type === "thinking" && res.content[0].signature.length > 0).toBe(true);
    const stream = client.messages.stream({
      model,
      max_tokens: 50,
      messages: [{ role: "user", content: "q" }],
    });
    let thinking = "";
    stream.on("thinking", (delta) => {
      thinking += delta;
    });
    const final = await stream.finalMessage();
    expect(thinking).toBe(script.reasoning);
    expect(final.content[0]).toMatchObject({ type: "thinking", thinking: script.reasoning });
    expect(textOf(final.content)).toBe("Answer.");
  });

  it("extended thinking: thinks when asked, and enforces the budget, temperature and tool-loop rules", async () => {
    sim.enqueueScripts({ toolCalls: [{ name: "get_weather", arguments: {} }] });
    const thinking = { type: "enabled", budget_tokens: 1024 } as const;
    const tools = [{ name: "get_weather", input_schema: { type: "object" as const } }];
    const first = await client.messages.create({
      model,
      max_tokens: 2048,
      thinking,
      tools,
      messages: [{ role: "user", content: "weather?" }],
    });
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    const toolUse = first.content.find((b) => b.type === "tool_use");
    const result = {
      role: "user" as const,
      content: [{ type: "tool_result" as const, tool_use_id: toolUse?.id ?? "", content: "21" }],
    };
    const loop = (assistant: Anthropic.ContentBlockParam[]) =>
      client.messages
        .create({
          model,
          max_tokens: 2048,
          thinking,
          tools,
          messages: [
            { role: "user", content: "weather?" },
            { role: "assistant", content: assistant },
            result,
          ],
        })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof Anthropic.APIError ? e.status : -1));
    const withoutThinking = first.content.filter(
      (b) => b.type !== "thinking",
    ) as Anthropic.ContentBlockParam[];
    const forged = [
      { type: "thinking", thinking: "x", signature: "Zm9yZ2Vk" },
      ...withoutThinking,
    ] as Anthropic.ContentBlockParam[];
    expect(await loop(first.content as Anthropic.ContentBlockParam[])).toBe(200);
    expect(await loop(withoutThinking)).toBe(400);
    expect(await loop(forged)).toBe(400);
    const refused = (over: Record<string, unknown>) =>
      client.messages
        .create({ model, max_tokens: 2048, thinking, messages: [{ role: "user", content: "x" }], ...over })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof Anthropic.APIError ? e.status : -1));
    expect(await refused({ max_tokens: 1024 })).toBe(400);
    expect(await refused({ thinking: { type: "enabled", budget_tokens: 512 } })).toBe(400);
    expect(await refused({ temperature: 0.5 })).toBe(400);
  });

  it("adaptive thinking: per model, with an effort, the text omitted on adaptive-only models", async () => {
    const attempt = (over: Record<string, unknown>) =>
      client.messages
        .create({
          model: "claude-opus-4-8",
          max_tokens: 2048,
          messages: [{ role: "user", content: "x" }],
          ...over,
        })
        .then((m) => m)
        .catch((e: unknown) => (e instanceof Anthropic.APIError ? e.status : -1));
    const adaptive = { thinking: { type: "adaptive" }, output_config: { effort: "high" } };
    const reply = await attempt(adaptive);
    expect(typeof reply === "number" ? reply : reply.content[0]).toMatchObject({
      type: "thinking",
      thinking: "",
    });
    const summarized = await attempt({ ...adaptive, thinking: { type: "adaptive", display: "summarized" } });
    expect(typeof summarized === "number" ? summarized : summarized.content[0]).toMatchObject({
      type: "thinking",
      thinking: "Let me work through this.",
    });
    expect(await attempt({ model: "claude-sonnet-4-6", ...adaptive })).not.toBeTypeOf("number");
    expect(await attempt({ thinking: { type: "enabled", budget_tokens: 1024 } })).toBe(400);
    expect(await attempt({ model: "claude-sonnet-4-5", ...adaptive })).toBe(400);
    expect(await attempt({ ...adaptive, output_config: { effort: "extreme" } })).toBe(400);
  });

  it.each([
    ["temperature", 0.5],
    ["temperature", 1],
    ["top_p", 0.9],
    ["top_k", 40],
  ])(
    "refuses %s (%s) on a model without sampling parameters, and takes it on Claude 4.6",
    async (field, value) => {
      const send = (model: string) =>
        client.messages
          .create({ model, max_tokens: 64, messages: [{ role: "user", content: "x" }], [field]: value })
          .then(() => 200)
          .catch((e: unknown) => (e instanceof Anthropic.BadRequestError ? e.error : "?"));
      expect(await send("claude-opus-4-7")).toMatchObject({
        error: { type: "invalid_request_error", message: `\`${field}\` is deprecated for this model.` },
      });
      expect(await send("claude-opus-4-6")).toBe(200);
    },
  );

  it("refuses an assistant prefill on Opus 4.6 and later models, and continues one on Sonnet 4.6 and 4.5", async () => {
    const send = (model: string) =>
      client.messages
        .create({
          model,
          max_tokens: 64,
          messages: [
            { role: "user", content: "x" },
            { role: "assistant", content: "{" },
          ],
        })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof Anthropic.BadRequestError ? e.error : "?"));
    expect(await send("claude-opus-4-6")).toMatchObject({
      error: { message: expect.stringContaining("does not support assistant message prefill") },
    });
    expect(await send("claude-sonnet-4-6")).toBe(200);
    expect(await send("claude-sonnet-4-5")).toBe(200);
  });

  it.each([
    [
      "a blank system block",
      { system: [{ type: "text", text: " " }] },
      "system: text content blocks must contain non-whitespace text",
    ],
    [
      "a blank message",
      { messages: [{ role: "user", content: "\n" }] },
      "messages: text content blocks must contain non-whitespace text",
    ],
    [
      "a blank stop sequence",
      { stop_sequences: ["\n"] },
      "stop_sequences: each stop sequence must contain non-whitespace",
    ],
  ] as Array<[string, Partial<Anthropic.MessageCreateParamsNonStreaming>, string]>)(
    "refuses %s, as Anthropic does",
    async (_, over, message) => {
      const got = await client.messages
        .create({
          model: "claude-sonnet-4-5",
          max_tokens: 64,
          messages: [{ role: "user", content: "x" }],
          ...over,
        })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof Anthropic.BadRequestError ? e.error : "?"));
      expect(got).toMatchObject({ error: { message } });
    },
  );

  it("refuses a tool result with a blank text block, and takes one without content", async () => {
    const send = (content: Anthropic.ToolResultBlockParam["content"]) =>
      client.messages
        .create({
          model: "claude-sonnet-4-5",
          max_tokens: 64,
          messages: [
            { role: "user", content: "x" },
            { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }] },
            {
              role: "user",
              content: [{ type: "tool_result", tool_use_id: "toolu_1", ...(content ? { content } : {}) }],
            },
          ],
        })
        .then(() => 200)
        .catch((e: unknown) => (e instanceof Anthropic.BadRequestError ? e.error : "?"));
    expect(await send([{ type: "text", text: "" }])).toMatchObject({
      error: { message: "messages: text content blocks must contain non-whitespace text" },
    });
    expect(await send(undefined)).toBe(200);
  });

  /**
   * The error message of a request, or 200. A timeout of its own keeps the SDK from refusing a large
   * max_tokens without streaming before the request is sent.
   */
  const outcome = (params: Record<string, unknown>) =>
    client.messages
      .create(
        {
          messages: [{ role: "user", content: "x" }],
          ...params,
        } as Anthropic.MessageCreateParamsNonStreaming,
        { timeout: 10_000 },
      )
      .then(() => 200)
      .catch((e: unknown) => {
        const body =
          e instanceof Anthropic.BadRequestError ? (e.error as Anthropic.ErrorResponse) : undefined;
        return body?.error.message ?? "?";
      });

  it.each([
    ["claude-opus-4-1-20250805", 32_000],
    ["claude-opus-4-20250514", 32_000],
    ["claude-sonnet-4-5", 64_000],
    ["claude-opus-4-6", 128_000],
  ])("refuses %s a max_tokens above its cap of %i, and takes the cap", async (model, cap) => {
    expect(await outcome({ model, max_tokens: cap + 1 })).toBe(
      `max_tokens: ${cap + 1} > ${cap}, which is the maximum allowed number of output tokens for ${model}`,
    );
    expect(await outcome({ model, max_tokens: cap })).toBe(200);
  });

  it.each(["claude-opus-4-6", "claude-sonnet-4-6"])(
    "refuses the xhigh effort on %s, which stops at max, and takes max",
    async (model) => {
      const adaptive = (effort: string) => ({
        model,
        max_tokens: 2048,
        thinking: { type: "adaptive" },
        output_config: { effort },
      });
      expect(await outcome(adaptive("xhigh"))).toMatch(/'xhigh' is not supported/);
      expect(await outcome(adaptive("max"))).toBe(200);
    },
  );

  it.each([
    ["extended", { type: "enabled", budget_tokens: 1024 }],
    ["adaptive", { type: "adaptive" }],
  ])("refuses a prefill while thinking (%s), and continues one without", async (_, thinking) => {
    const prefill = {
      model: "claude-sonnet-4-6",
      max_tokens: 2048,
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: "{" },
      ],
    };
    expect(await outcome({ ...prefill, thinking })).toMatch(
      /a final `assistant` message must start with a thinking block/,
    );
    expect(await outcome(prefill)).toBe(200);
  });

  describe("structured outputs' JSON Schema limits", () => {
    const schema = (age: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
      type: "object",
      properties: { age },
      additionalProperties: false,
      ...more,
    });
    const asFormat = (s: unknown) => ({
      model: "claude-sonnet-4-5",
      max_tokens: 64,
      output_config: { format: { type: "json_schema", schema: s } },
    });
    const asTool = (s: unknown, strict: boolean) => ({
      model: "claude-sonnet-4-5",
      max_tokens: 64,
      tools: [{ name: "f", input_schema: s, ...(strict ? { strict } : {}) }],
    });

    it.each([
      [schema({ type: "integer", minimum: 0 }), "For 'integer' type, property 'minimum' is not supported"],
      [schema({ type: "string", maxLength: 3 }), "For 'string' type, property 'maxLength' is not supported"],
      [
        schema({ type: "array", minItems: 2 }),
        "For 'array' type, 'minItems' values other than 0 or 1 are not supported",
      ],
      [schema({ type: "string", format: "idn-email" }), "String format 'idn-email' is not supported"],
      [
        { type: "object", properties: {} },
        "For 'object' type, 'additionalProperties' must be explicitly set to false",
      ],
    ])(
      "refuses %j in a format and a strict tool, as Anthropic does, and takes it in another tool",
      async (s, message) => {
        expect(await outcome(asFormat(s))).toBe(`output_config.format.schema: ${message}`);
        expect(await outcome(asTool(s, true))).toBe(`tools.0.custom.input_schema: ${message}`);
        expect(await outcome(asTool(s, false))).toBe(200);
      },
    );

    it("takes what the grammar takes: formats it lists, minItems 1, closed objects", async () => {
      const ok = schema(
        { type: "array", minItems: 1, items: { type: "string", format: "date" } },
        { required: ["age"] },
      );
      expect(await outcome(asFormat(ok))).toBe(200);
    });
  });

  it("429 surfaces as RateLimitError; wrong key as AuthenticationError", async () => {
    sim.enqueueFaults({ kind: "status", status: 429, headers: { "retry-after": "7" } });
    const err = await client.messages
      .create({ model, max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const e = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e.headers?.get("retry-after")).toBe("7");
    expect(e.requestID).toMatch(/^req_/);
    expect(e.error).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });

    const bad = new Anthropic({ apiKey: "nope", baseURL: sim.url, maxRetries: 0 });
    const authErr = await bad.messages
      .create({ model, max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(authErr).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it("missing anthropic-version / max_tokens → 400 invalid_request_error; unknown path → 404", async () => {
    const post = (path: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${sim.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": DEFAULT_API_KEY, ...headers },
        body: JSON.stringify(body),
      });
    const noVersion = await post("/v1/messages", { model, max_tokens: 5, messages: [] }, {});
    expect(noVersion.status).toBe(400);
    expect(noVersion.headers.get("request-id")).toMatch(/^req_/);
    expect(await noVersion.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const noMax = await post(
      "/v1/messages",
      { model, messages: [{ role: "user", content: "x" }] },
      {
        "anthropic-version": "2023-06-01",
      },
    );
    expect(noMax.status).toBe(400);
    expect(await noMax.json()).toMatchObject({ error: { message: "max_tokens: Field required" } });
    const nf = await post("/v1/nope", {}, { "anthropic-version": "2023-06-01" });
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });
});
