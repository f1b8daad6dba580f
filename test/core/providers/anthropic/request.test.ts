import { describe, expect, it } from "vitest";
import { type ChatRequest, chatRequest } from "../../../../core/api/chat-request.ts";
import { toAnthropicRequest } from "../../../../core/providers/anthropic/request.ts";
import { DEFAULT_MAX_TOKENS } from "../../../../core/providers/anthropic/thinking.ts";

const CTX = { providerId: "anthropic", model: "claude-sonnet-4-5", apiKey: "sk-ant-test" };
const hi = [{ role: "user", content: "Hi" }];

/** Requests go through the real gateway schema first, so every case is one a caller could send. */
const request = (over: Record<string, unknown> = {}): ChatRequest =>
  chatRequest.parse({ model: "claude", messages: hi, ...over });
const body = (over: Record<string, unknown> = {}) => JSON.parse(toAnthropicRequest(request(over), CTX).body);
const refusal = (over: Record<string, unknown>) => {
  try {
    toAnthropicRequest(request(over), CTX);
  } catch (err) {
    return err;
  }
  throw new Error("expected the request to be refused");
};

describe("toAnthropicRequest, the envelope", () => {
  it("posts to /v1/messages with the API key, the pinned API version and the provider model", () => {
    const r = toAnthropicRequest(request(), CTX);
    expect(r.path).toBe("/v1/messages");
    expect(r.headers).toEqual({
      "x-api-key": "sk-ant-test",
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    });
    expect(JSON.parse(r.body)).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: DEFAULT_MAX_TOKENS,
      messages: [{ role: "user", content: "Hi" }],
    });
  });

  it.each([
    [{}, 4096],
    [{ max_tokens: 100 }, 100],
    [{ max_completion_tokens: 200 }, 200],
    [{ max_tokens: 100, max_completion_tokens: 200 }, 200],
  ])("takes max_tokens from %j as %d", (over, expected) => {
    expect(body(over).max_tokens).toBe(expected);
  });

  it("asks for a stream only when the caller streams", () => {
    expect(body({ stream: true }).stream).toBe(true);
    expect(body({ stream: false })).not.toHaveProperty("stream");
  });

  it.each([
    [{ temperature: 0.7 }, { temperature: 0.7 }],
    [{ temperature: 1 }, { temperature: 1 }],
    [{ top_p: 0.9 }, { top_p: 0.9 }],
    [{ stop: "END" }, { stop_sequences: ["END"] }],
    [{ stop: ["a", "b"] }, { stop_sequences: ["a", "b"] }],
    [{ user: "user-42" }, { metadata: { user_id: "user-42" } }],
    [{ safety_identifier: "hash-9" }, { metadata: { user_id: "hash-9" } }],
    [{ user: "user-42", safety_identifier: "hash-9" }, { metadata: { user_id: "hash-9" } }],
  ])("maps %j onto %j", (over, expected) => {
    expect(body(over)).toMatchObject(expected);
  });

  it.each([
    [{ store: true }],
    [{ metadata: { tag: "x" } }],
    [{ stream_options: { include_usage: true }, stream: true }],
    [{ n: 1, presence_penalty: 0, frequency_penalty: 0, logprobs: false, logit_bias: {}, top_logprobs: 0 }],
    [{ seed: null, reasoning_effort: null, service_tier: null }],
    [{ service_tier: "auto" }],
    [{ service_tier: "default" }],
    [{ reasoning_effort: "none", verbosity: "medium", prompt_cache_key: "tenant-7" }],
    [{ modalities: ["text"], prediction: { type: "content", content: "Hi there" } }],
    [{ stream_options: { include_usage: false, include_obfuscation: false }, stream: true }],
  ])("accepts documented no-ops and ignored fields without forwarding them: %j", (over) => {
    expect(Object.keys(body(over)).sort()).toEqual(
      ["max_tokens", "messages", "model", ...("stream" in over ? ["stream"] : [])].sort(),
    );
  });
});

describe("toAnthropicRequest, refusals", () => {
  it.each([
    [{ n: 2 }, "n"],
    [{ presence_penalty: 0.5 }, "presence_penalty"],
    [{ frequency_penalty: -1 }, "frequency_penalty"],
    [{ logit_bias: { "50256": -100 } }, "logit_bias"],
    [{ logprobs: true }, "logprobs"],
    [{ top_logprobs: 3 }, "top_logprobs"],
    [{ seed: 7 }, "seed"],
    [{ reasoning_effort: "low", temperature: 0.5 }, "temperature"],
    [{ reasoning_effort: "high", top_p: 0.9 }, "top_p"],
    [{ reasoning_effort: "low", max_completion_tokens: 1024 }, "max_completion_tokens"],
    [{ reasoning_effort: "low", max_tokens: 500 }, "max_tokens"],
    [{ verbosity: "low" }, "verbosity"],
    [{ service_tier: "priority" }, "service_tier"],
    [{ temperature: 1.5 }, "temperature"],
    [{ stop: ["\n"] }, "stop"],
    [{ stop: ["END", " "] }, "stop"],
    [{ response_format: { type: "json_object" } }, "response_format"],
    [
      { response_format: { type: "json_schema", json_schema: { name: "x" } } },
      "response_format.json_schema.schema",
    ],
    [{ messages: [{ role: "user", content: "Hi", name: "bob" }] }, "messages[0].name"],
  ])("refuses %j with a 400 naming %s", (over, param) => {
    expect(refusal(over)).toMatchObject({ status: 400, param, code: "unsupported_parameter" });
  });
});

describe("toAnthropicRequest, tools", () => {
  const weather = {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  };
  const bare = { type: "function", function: { name: "ping" } };

  it("sends tool definitions with their JSON schema, and an empty object schema when none was given", () => {
    expect(body({ tools: [weather, bare] }).tools).toEqual([
      { name: "get_weather", description: "Weather", input_schema: weather.function.parameters },
      { name: "ping", input_schema: { type: "object", properties: {} } },
    ]);
  });

  it("keeps strict tool definitions strict", () => {
    const strict = { type: "function", function: { name: "f", strict: true } };
    expect(body({ tools: [strict] }).tools[0].strict).toBe(true);
  });

  it.each([
    ["auto", { type: "auto" }],
    ["required", { type: "any" }],
    ["none", { type: "none" }],
    [
      { type: "function", function: { name: "ping" } },
      { type: "tool", name: "ping" },
    ],
  ])("maps tool_choice %j onto %j", (choice, expected) => {
    expect(body({ tools: [bare], tool_choice: choice }).tool_choice).toEqual(expected);
  });

  it.each([
    [undefined, { type: "auto", disable_parallel_tool_use: true }],
    ["required", { type: "any", disable_parallel_tool_use: true }],
    [
      { type: "function", function: { name: "ping" } },
      { type: "tool", name: "ping", disable_parallel_tool_use: true },
    ],
    ["none", { type: "none" }],
  ])("turns parallel_tool_calls false with tool_choice %j into %j", (choice, expected) => {
    expect(body({ tools: [bare], tool_choice: choice, parallel_tool_calls: false }).tool_choice).toEqual(
      expected,
    );
  });

  it("sends a JSON schema response format as output_config", () => {
    const schema = { type: "object", properties: { a: { type: "number" } }, additionalProperties: false };
    const format = { type: "json_schema", json_schema: { name: "answer", schema, strict: true } };
    expect(body({ response_format: format }).output_config).toEqual({
      format: { type: "json_schema", schema },
    });
    expect(body({ response_format: { type: "text" } })).not.toHaveProperty("output_config");
  });

  const bounded = {
    type: "object",
    properties: { age: { type: "integer", minimum: 0 } },
    required: ["age"],
    additionalProperties: false,
  };
  const inAnthropicsForm = {
    ...bounded,
    properties: { age: { type: "integer", description: "{minimum: 0}" } },
  };

  it("sends a structured output schema in the form Anthropic's grammar takes, its bounds as description", () => {
    const format = { type: "json_schema", json_schema: { name: "person", schema: bounded, strict: true } };
    expect(body({ response_format: format }).output_config.format.schema).toEqual(inAnthropicsForm);
  });

  it("sends a strict tool's schema in that form too, and another tool's as it is", () => {
    const tool = (name: string, strict: boolean) => ({
      type: "function",
      function: { name, parameters: bounded, strict },
    });
    const [strict, loose] = body({ tools: [tool("strict", true), tool("loose", false)] }).tools;
    expect(strict.input_schema).toEqual(inAnthropicsForm);
    expect(loose.input_schema).toEqual(bounded);
  });

  it.each([
    [
      "a response format",
      {
        response_format: {
          type: "json_schema",
          json_schema: { name: "m", schema: { type: "object", additionalProperties: { type: "number" } } },
        },
      },
      "response_format.json_schema.schema",
    ],
    [
      "a strict tool",
      {
        tools: [
          bare,
          {
            type: "function",
            function: {
              name: "tag",
              strict: true,
              parameters: { type: "object", additionalProperties: true },
            },
          },
        ],
      },
      "tools[1].function.parameters",
    ],
  ])("refuses an open object in %s, which Anthropic cannot constrain, naming it", (_, over, param) => {
    expect(refusal(over)).toMatchObject({ status: 400, param, code: "unsupported_parameter" });
  });
});

describe("toAnthropicRequest, reasoning_effort as extended thinking", () => {
  it.each([
    [{ reasoning_effort: "minimal" }, { budget_tokens: 1024 }, 1024 + DEFAULT_MAX_TOKENS],
    [{ reasoning_effort: "low" }, { budget_tokens: 2048 }, 2048 + DEFAULT_MAX_TOKENS],
    [{ reasoning_effort: "medium" }, { budget_tokens: 8192 }, 8192 + DEFAULT_MAX_TOKENS],
    [{ reasoning_effort: "high" }, { budget_tokens: 16384 }, 16384 + DEFAULT_MAX_TOKENS],
    [{ reasoning_effort: "xhigh" }, { budget_tokens: 32768 }, 32768 + DEFAULT_MAX_TOKENS],
    // Under the 64 000-token output cap of the Claude 4.5 models.
    [{ reasoning_effort: "max" }, { budget_tokens: 57344 }, 57344 + DEFAULT_MAX_TOKENS],
    // A caller's limit covers thinking and answer together; the budget shrinks to fit under it.
    [{ reasoning_effort: "high", max_completion_tokens: 4096 }, { budget_tokens: 4095 }, 4096],
    [{ reasoning_effort: "low", max_tokens: 10_000 }, { budget_tokens: 2048 }, 10_000],
  ] as const)("maps %j to thinking %j with max_tokens %i", (over, thinking, maxTokens) => {
    const b = body(over);
    expect(b.thinking).toEqual({ type: "enabled", ...thinking });
    expect(b.max_tokens).toBe(maxTokens);
  });

  it.each([[{ temperature: 1, top_p: 0.95 }], [{ tool_choice: "auto" }]] as const)(
    "thinks with what Anthropic allows alongside: %j",
    (over) => {
      expect(body({ reasoning_effort: "low", ...over }).thinking).toMatchObject({ type: "enabled" });
    },
  );

  it.each([
    ["required", "required"],
    [
      "allowed tools, required",
      {
        type: "allowed_tools",
        allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "f" } }] },
      },
    ],
  ])("refuses a forced tool call while thinking (%s), naming tool_choice", (_, tool_choice) => {
    const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }] as const;
    expect(refusal({ reasoning_effort: "low", tools, tool_choice })).toMatchObject({
      status: 400,
      param: "tool_choice",
    });
  });

  it("replays the thinking a turn's first tool call carries before that turn's blocks, only while thinking", () => {
    const thinking = [{ type: "thinking", thinking: "Plan.", signature: "c2ln" }] as const;
    const messages = [
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "toolu_1",
            type: "function",
            function: { name: "get_weather", arguments: "{}" },
            extra_content: { anthropic: { thinking_blocks: thinking } },
          },
        ],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "21" },
    ];
    const on = body({ reasoning_effort: "low", messages });
    expect(on.messages[1].content.map((b: { type: string }) => b.type)).toEqual([
      "thinking",
      "text",
      "tool_use",
    ]);
    expect(on.messages[1].content[0]).toEqual(thinking[0]);
    expect(JSON.stringify(on.messages[1].content[2])).not.toContain("extra_content");
    const off = body({ messages });
    expect(off.messages[1].content.map((b: { type: string }) => b.type)).toEqual(["text", "tool_use"]);
  });
});

describe("toAnthropicRequest, thinking within the model's output cap", () => {
  const sent = (model: string, over: Record<string, unknown>) =>
    JSON.parse(toAnthropicRequest(request(over), { ...CTX, model }).body);

  it.each([
    // model, effort, budget_tokens, max_tokens: Opus 4 and 4.1 write at most 32 000 tokens.
    ["claude-opus-4-1-20250805", "xhigh", 27904, 32000],
    ["claude-opus-4-20250514", "max", 27904, 32000],
    ["claude-opus-4-1", "high", 16384, 16384 + DEFAULT_MAX_TOKENS],
    ["claude-sonnet-4-5", "max", 57344, 57344 + DEFAULT_MAX_TOKENS],
    ["claude-3-7-sonnet-20250219", "max", 57344, 57344 + DEFAULT_MAX_TOKENS],
    // An id whose cap is unknown gets the figures as they are.
    ["my-finetune", "max", 57344, 57344 + DEFAULT_MAX_TOKENS],
  ] as const)("gives %s at %s a budget of %i within max_tokens %i", (model, effort, budget, maxTokens) => {
    const b = sent(model, { reasoning_effort: effort });
    expect(b.thinking).toEqual({ type: "enabled", budget_tokens: budget });
    expect(b.max_tokens).toBe(maxTokens);
  });

  it("sends a caller's limit above the cap as it is, for Anthropic to answer", () => {
    expect(sent("claude-opus-4-1", { reasoning_effort: "low", max_tokens: 50_000 }).max_tokens).toBe(50_000);
  });
});

describe("toAnthropicRequest, a prefill while thinking", () => {
  const prefill = [
    { role: "user", content: "Answer in JSON." },
    { role: "assistant", content: "{" },
  ];
  const mapped = (model: string, over: Record<string, unknown>) =>
    toAnthropicRequest(request({ messages: prefill, ...over }), { ...CTX, model });

  it.each(["claude-sonnet-4-5", "claude-sonnet-4-6", "claude-3-7-sonnet-20250219"])(
    "is refused for %s, naming reasoning_effort, as Anthropic does not continue a message while it thinks",
    (model) => {
      expect(() => mapped(model, { reasoning_effort: "low" })).toThrow(
        expect.objectContaining({ status: 400, param: "reasoning_effort", code: "unsupported_parameter" }),
      );
      expect(() => mapped(model, { reasoning_effort: "none" })).not.toThrow();
    },
  );

  it("names the message for a model that continues none, thinking or not", () => {
    expect(() => mapped("claude-opus-4-8", { reasoning_effort: "low" })).toThrow(
      expect.objectContaining({ param: "messages[1]" }),
    );
  });
});

describe("toAnthropicRequest, interleaved thinking replayed", () => {
  it("puts each call's thinking back right before that call, in order", () => {
    const block = (signature: string) => ({ type: "thinking", thinking: "", signature });
    const call = (id: string, signature: string) => ({
      id,
      type: "function",
      function: { name: id, arguments: "{}" },
      extra_content: { anthropic: { thinking_blocks: [block(signature)] } },
    });
    const messages = [
      { role: "user", content: "Weather and time?" },
      { role: "assistant", content: "Both.", tool_calls: [call("toolu_1", "s1"), call("toolu_2", "s2")] },
      { role: "tool", tool_call_id: "toolu_1", content: "21" },
      { role: "tool", tool_call_id: "toolu_2", content: "noon" },
    ];
    const sent = body({ reasoning_effort: "high", messages }).messages[1].content;
    expect(
      sent.map((b: { type: string; signature?: string; id?: string }) => b.signature ?? b.id ?? b.type),
    ).toEqual(["s1", "text", "toolu_1", "s2", "toolu_2"]);
  });
});

describe("toAnthropicRequest, models without sampling parameters (Opus 4.7 and later)", () => {
  const opus = { ...CTX, model: "claude-opus-4-8" };
  const bodyFor = (over: Record<string, unknown>) => JSON.parse(toAnthropicRequest(request(over), opus).body);

  it.each([[{ temperature: 1 }], [{ top_p: 1 }], [{ temperature: 1, top_p: 1, reasoning_effort: "low" }]])(
    "leaves out OpenAI's defaults, which change nothing: %j",
    (over) => {
      const b = bodyFor(over);
      expect(b).not.toHaveProperty("temperature");
      expect(b).not.toHaveProperty("top_p");
    },
  );

  it.each([
    [{ temperature: 0 }, "temperature"],
    [{ temperature: 0.7, reasoning_effort: "low" }, "temperature"],
    [{ top_p: 0.9 }, "top_p"],
  ])("refuses %j, naming %s and the model", (over, param) => {
    expect(() => toAnthropicRequest(request(over), opus)).toThrow(
      expect.objectContaining({
        status: 400,
        param,
        code: "unsupported_parameter",
        message: expect.stringContaining("claude-opus-4-8 takes no sampling parameters"),
      }),
    );
  });

  it.each([[{ temperature: 0.3 }], [{ top_p: 0.8 }]])(
    "still maps %j for Claude 4.6, which has them",
    (over) => {
      const b = JSON.parse(toAnthropicRequest(request(over), { ...CTX, model: "claude-opus-4-6" }).body);
      expect(b).toMatchObject(over);
    },
  );
});

describe("toAnthropicRequest, models that take temperature or top_p, not both (Opus 4.1 and later)", () => {
  const sent = (over: Record<string, unknown>, model: string) =>
    JSON.parse(toAnthropicRequest(request(over), { ...CTX, model }).body);

  it.each([
    [{ temperature: 0.3, top_p: 1 }, { temperature: 0.3 }],
    [{ temperature: 1, top_p: 0.8 }, { top_p: 0.8 }],
  ])("sends %j as %j: the other is at its default", (over, expected) => {
    const b = sent(over, "claude-sonnet-4-5");
    expect({ temperature: b.temperature, top_p: b.top_p }).toEqual({
      temperature: undefined,
      top_p: undefined,
      ...expected,
    });
  });

  it("refuses both set otherwise, naming top_p", () => {
    expect(() => sent({ temperature: 0.3, top_p: 0.8 }, "claude-sonnet-4-6")).toThrow(
      expect.objectContaining({ status: 400, param: "top_p", code: "unsupported_parameter" }),
    );
  });

  it.each(["claude-opus-4-20250514", "claude-3-7-sonnet-20250219"])(
    "sends both to %s, which takes both",
    (model) => {
      expect(sent({ temperature: 0.3, top_p: 0.8 }, model)).toMatchObject({ temperature: 0.3, top_p: 0.8 });
    },
  );
});

describe("toAnthropicRequest, a conversation that ends with an assistant message", () => {
  const prefill = [
    { role: "user", content: "Answer in JSON." },
    { role: "assistant", content: "{" },
    { role: "system", content: "Be brief." },
  ];

  it.each(["claude-sonnet-4-5", "claude-sonnet-4-6"])(
    "is sent as it is to %s, which continues it",
    (model) => {
      const sent = JSON.parse(toAnthropicRequest(request({ messages: prefill }), { ...CTX, model }).body);
      expect(sent.messages.at(-1)).toEqual({
        role: "assistant",
        content: [{ type: "text", text: "{" }],
      });
    },
  );

  it.each(["claude-opus-4-6", "claude-opus-4-8", "claude-sonnet-5", "claude-fable-5"])(
    "is refused for %s, which does not continue one, naming the assistant message",
    (model) => {
      expect(() => toAnthropicRequest(request({ messages: prefill }), { ...CTX, model })).toThrow(
        expect.objectContaining({ status: 400, param: "messages[1]", code: "unsupported_parameter" }),
      );
    },
  );
});

describe("toAnthropicRequest, reasoning_effort as adaptive thinking (Claude 4.6 and later)", () => {
  const adaptive = { ...CTX, model: "claude-opus-4-8" };
  const bodyFor = (over: Record<string, unknown>) =>
    JSON.parse(toAnthropicRequest(request(over), adaptive).body);

  it.each([
    ["minimal", "low", 1024],
    ["low", "low", 2048],
    ["medium", "medium", 8192],
    ["high", "high", 16384],
    ["xhigh", "xhigh", 32768],
    ["max", "max", 57344],
  ] as const)(
    "maps %s to effort %s, with room for %i thinking tokens before the answer",
    (effort, level, room) => {
      const b = bodyFor({ reasoning_effort: effort });
      expect(b.thinking).toEqual({ type: "adaptive" });
      expect(b.output_config).toEqual({ effort: level });
      expect(b.max_tokens).toBe(room + DEFAULT_MAX_TOKENS);
    },
  );

  it.each([
    // model, effort asked, effort sent: Claude 4.6 and Mythos Preview have no xhigh; max is the next up.
    ["claude-opus-4-6", "xhigh", "max"],
    ["claude-sonnet-4-6", "xhigh", "max"],
    ["claude-mythos-preview", "xhigh", "max"],
    ["claude-opus-4-6", "high", "high"],
    ["claude-opus-4-7", "xhigh", "xhigh"],
    ["claude-sonnet-5", "xhigh", "xhigh"],
  ] as const)("sends %s at %s the effort %s", (model, effort, level) => {
    const b = JSON.parse(toAnthropicRequest(request({ reasoning_effort: effort }), { ...CTX, model }).body);
    expect(b.output_config).toEqual({ effort: level });
  });

  it("keeps the caller's limit as it is: there is no budget to fit under it", () => {
    expect(bodyFor({ reasoning_effort: "high", max_completion_tokens: 600 }).max_tokens).toBe(600);
  });

  it("puts the effort beside a structured output format", () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, additionalProperties: false };
    const b = bodyFor({
      reasoning_effort: "medium",
      response_format: { type: "json_schema", json_schema: { name: "x", schema } },
    });
    expect(b.output_config).toEqual({ format: { type: "json_schema", schema }, effort: "medium" });
  });

  it("may force a tool call, which adaptive thinking allows", () => {
    const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }] as const;
    expect(bodyFor({ reasoning_effort: "low", tools, tool_choice: "required" }).tool_choice).toEqual({
      type: "any",
    });
  });

  it("still refuses a temperature other than 1, naming it", () => {
    expect(() =>
      toAnthropicRequest(request({ reasoning_effort: "low", temperature: 0.2 }), adaptive),
    ).toThrow(expect.objectContaining({ status: 400, param: "temperature" }));
  });

  it("sends no thinking for none, leaving the model's default", () => {
    const b = bodyFor({ reasoning_effort: "none" });
    expect(b).not.toHaveProperty("thinking");
    expect(b).not.toHaveProperty("output_config");
  });
});

describe("toAnthropicRequest, OpenAI's prompt-cache breakpoints as cache_control", () => {
  const mark = { prompt_cache_breakpoint: { mode: "explicit" } };
  const part = (text: string, breakpoint = true) => ({ type: "text", text, ...(breakpoint ? mark : {}) });

  it("marks each block whose part ended a cached prefix: system, user text, images, tool results", () => {
    const b = body({
      messages: [
        { role: "system", content: [part("You are terse.")] },
        {
          role: "user",
          content: [
            part("Long document…"),
            { type: "image_url", image_url: { url: "https://x/y.png" }, ...mark },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "t1", content: [part("result")] },
      ],
    });
    const ephemeral = { type: "ephemeral" };
    expect(b.system).toEqual([{ type: "text", text: "You are terse.", cache_control: ephemeral }]);
    expect(b.messages[0].content.map((x: { cache_control?: unknown }) => x.cache_control)).toEqual([
      ephemeral,
      ephemeral,
    ]);
    expect(b.messages[2].content[0].content).toEqual([
      { type: "text", text: "result", cache_control: ephemeral },
    ]);
    expect(JSON.stringify(b)).not.toContain("prompt_cache_breakpoint");
  });

  it("gives the breakpoints Anthropic's 1-hour TTL when the caller asks for OpenAI's 30 minutes", () => {
    const b = body({
      prompt_cache_options: { ttl: "30m" },
      messages: [{ role: "user", content: [part("doc")] }],
    });
    expect(b.messages[0].content[0].cache_control).toEqual({ type: "ephemeral", ttl: "1h" });
  });

  it("keeps the last four breakpoints of a longer conversation (Anthropic refuses a fifth)", () => {
    const turns = Array.from({ length: 6 }, (_, k) => [
      { role: "user", content: [part(`q${k}`)] },
      { role: "assistant", content: `a${k}` },
    ]).flat();
    const b = body({ messages: [...turns, { role: "user", content: "last" }] });
    const marked = b.messages
      .flatMap((m: { content: string | Array<{ text?: string; cache_control?: unknown }> }) =>
        typeof m.content === "string" ? [] : m.content,
      )
      .filter((x: { cache_control?: unknown }) => x.cache_control)
      .map((x: { text?: string }) => x.text);
    expect(marked).toEqual(["q2", "q3", "q4", "q5"]);
  });

  it("ignores OpenAI's retention and cache mode, which Anthropic has no use for", () => {
    const b = body({ prompt_cache_retention: "24h", prompt_cache_options: { mode: "explicit" } });
    expect(b).not.toHaveProperty("prompt_cache_retention");
    expect(b).not.toHaveProperty("prompt_cache_options");
    expect(JSON.stringify(b)).not.toContain("cache_control");
  });
});
