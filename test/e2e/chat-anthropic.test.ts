import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { collect } from "./collect.ts";
import { type Harness, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

/** Chat completions on Anthropic: what the OpenAI dialect becomes there (extended and adaptive thinking, the newest models' refusals). */
describe("Anthropic through the OpenAI SDK", () => {
  it("refuses a parameter Anthropic cannot honour with 400 naming it", async () => {
    const err = await h.client.chat.completions
      .create({ model: "an/claude-sim", seed: 7, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, param: "seed", code: "unsupported_parameter" });
    expect(h.anthropic.requests).toHaveLength(0);
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

    it("continues a tool loop whose history lost its thinking (as runTools, the AI SDK and LangChain send it) without thinking for that step", async () => {
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
      // Sent with thinking, Anthropic would answer 400 ("Expected `thinking` or `redacted_thinking`").
      const res = await h.client.chat.completions.create({
        model: "an/claude-sim",
        reasoning_effort: "low",
        tools,
        messages: history,
      });
      expect(res.choices[0]?.finish_reason).toBe("stop");
      expect(h.anthropic.requests.at(-1)?.body).not.toHaveProperty("thinking");
      // A new question, not a tool loop's continuation, still thinks.
      await h.client.chat.completions.create({
        model: "an/claude-sim",
        reasoning_effort: "low",
        messages: [question],
      });
      expect(h.anthropic.requests.at(-1)?.body).toHaveProperty("thinking");
    });
  });

  describe("what newer Claude models refuse: sampling parameters, both samplers, a prefill", () => {
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

    it("leaves out blank system and assistant text, which Anthropic refuses, and refuses a blank stop sequence", async () => {
      const r = await h.client.chat.completions.create({
        model: "an/claude-sonnet-4-5",
        messages: [
          { role: "system", content: "" },
          { role: "user", content: "hi" },
          { role: "assistant", content: "\n" },
          { role: "user", content: "hi again" },
        ],
      });
      expect(r.choices[0]?.finish_reason).toBe("stop");
      const err = await h.client.chat.completions
        .create({ model: "an/claude-sonnet-4-5", stop: ["\n"], messages: hi })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, param: "stop", code: "unsupported_parameter" });
    });

    it("carries a tool loop whose call ids another provider made, in characters Anthropic refuses", async () => {
      const id = "functions.get_weather:0";
      const r = await h.client.chat.completions.create({
        model: "an/claude-sim",
        messages: [
          { role: "user", content: "Weather?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id, type: "function", function: { name: "get_weather", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: id, content: "21" },
        ],
      });
      expect(r.choices[0]?.finish_reason).toBe("stop");
    });

    it("sends Claude 4.5 the one sampler not at its default, which it requires", async () => {
      const r = await h.client.chat.completions.create({
        model: "an/claude-sonnet-4-5",
        temperature: 0.4,
        top_p: 1,
        messages: hi,
      });
      expect(r.choices[0]?.finish_reason).toBe("stop");
      const body = h.anthropic.requests.at(-1)?.body as Record<string, unknown>;
      expect(body).toMatchObject({ temperature: 0.4 });
      expect(body).not.toHaveProperty("top_p");
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
      // Opus was never called, nor counted as an attempt: the request's plan left it out.
      expect(response.headers.get("x-gateway-attempts")).toBe("1");
      await expect.poll(() => h.outcomes.at(-1)?.requestId).toBe(response.headers.get("x-request-id"));
      expect(h.outcomes.at(-1)?.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(["oa:ok"]);
    });
  });

  describe("what Anthropic refuses that OpenAI takes: output past the cap, a missing effort, schema keywords, blank text, a prefill while thinking", () => {
    const hi: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: "user", content: "hi" }];
    const sent = () => h.anthropic.requests.at(-1)?.body as Record<string, unknown>;

    it.each([
      ["an/claude-opus-4-1-20250805", "xhigh", 27904, 32000],
      ["an/claude-opus-4-20250514", "max", 27904, 32000],
      ["an/claude-sonnet-4-5", "max", 57344, 61440],
    ] as const)("thinks on %s at %s within its output cap", async (model, effort, budget, maxTokens) => {
      const r = await h.client.chat.completions.create({ model, reasoning_effort: effort, messages: hi });
      expect(r.choices[0]?.finish_reason).toBe("stop");
      expect(sent()).toMatchObject({ max_tokens: maxTokens, thinking: { budget_tokens: budget } });
    });

    it.each(["an/claude-opus-4-6", "an/claude-sonnet-4-6"])(
      "asks %s, which has no xhigh, for the next effort up",
      async (model) => {
        const r = await h.client.chat.completions.create({ model, reasoning_effort: "xhigh", messages: hi });
        expect(r.choices[0]?.finish_reason).toBe("stop");
        expect(sent().output_config).toEqual({ effort: "max" });
      },
    );

    const person = {
      type: "object",
      properties: {
        age: { type: "integer", minimum: 0, maximum: 150 },
        name: { type: "string", maxLength: 40 },
      },
      required: ["age", "name"],
      additionalProperties: false,
    };

    it("answers a structured output whose schema has bounds Anthropic's grammar lacks, telling the model them", async () => {
      const r = await h.client.chat.completions.create({
        model: "an/claude-sonnet-4-5",
        response_format: {
          type: "json_schema",
          json_schema: { name: "person", schema: person, strict: true },
        },
        messages: hi,
      });
      expect(r.choices[0]?.finish_reason).toBe("stop");
      const schema = (sent().output_config as { format: { schema: typeof person } }).format.schema;
      expect(schema.properties.age).toEqual({ type: "integer", description: "{minimum: 0, maximum: 150}" });
    });

    it("calls a strict tool whose schema has such bounds", async () => {
      h.anthropic.enqueueScripts({ toolCalls: [{ name: "save", arguments: { age: 3, name: "Ada" } }] });
      const r = await h.client.chat.completions.create({
        model: "an/claude-sonnet-4-5",
        tools: [{ type: "function", function: { name: "save", parameters: person, strict: true } }],
        messages: hi,
      });
      expect(r.choices[0]?.finish_reason).toBe("tool_calls");
    });

    it("refuses an open object in a schema before calling Anthropic, naming the schema", async () => {
      const before = h.anthropic.requests.length;
      const err = await h.client.chat.completions
        .create({
          model: "an/claude-sonnet-4-5",
          response_format: {
            type: "json_schema",
            json_schema: {
              name: "scores",
              schema: { type: "object", additionalProperties: { type: "number" } },
            },
          },
          messages: hi,
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        status: 400,
        param: "response_format.json_schema.schema",
        code: "unsupported_parameter",
      });
      expect(h.anthropic.requests.length).toBe(before);
    });

    it("leaves out blank user text and answers a tool that printed nothing", async () => {
      const r = await h.client.chat.completions.create({
        model: "an/claude-sonnet-4-5",
        messages: [
          { role: "user", content: "Weather?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: "{}" } },
            ],
          },
          { role: "tool", tool_call_id: "toolu_1", content: [{ type: "text", text: "" }] },
          { role: "user", content: [{ type: "text", text: " " }] },
          { role: "user", content: "" },
        ],
      });
      expect(r.choices[0]?.finish_reason).toBe("stop");
    });

    it("refuses a prefill while thinking before calling Anthropic, naming reasoning_effort", async () => {
      const before = h.anthropic.requests.length;
      const prefill: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
        ...hi,
        { role: "assistant", content: "{" },
      ];
      const err = await h.client.chat.completions
        .create({ model: "an/claude-sonnet-4-5", reasoning_effort: "low", messages: prefill })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, param: "reasoning_effort", code: "unsupported_parameter" });
      expect(h.anthropic.requests.length).toBe(before);
      const plain = await h.client.chat.completions.create({
        model: "an/claude-sonnet-4-5",
        messages: prefill,
      });
      expect(plain.choices[0]?.finish_reason).toBe("stop");
    });
  });

  it("gives a call to a tool without parameters the arguments '{}', streamed or not, as OpenAI does", async () => {
    const params = {
      model: "an/claude-sim",
      tools: [{ type: "function" as const, function: { name: "get_time" } }],
      messages: [{ role: "user" as const, content: "Time?" }],
    };
    const script = { toolCalls: [{ name: "get_time", arguments: {} }] };
    h.anthropic.enqueueScripts(script, script, script);
    const plain = await h.client.chat.completions.create(params);
    const streamed = await collect(await h.client.chat.completions.create({ ...params, stream: true }));
    // The SDK's own accumulator, as agent loops use it.
    const helped = await h.client.chat.completions.stream(params).finalMessage();
    const argsOf = (m: OpenAI.Chat.Completions.ChatCompletionMessage | undefined) =>
      m?.tool_calls?.map((t) => (t.type === "function" ? t.function.arguments : undefined));
    const args = [argsOf(plain.choices[0]?.message), [streamed.tools.get(0)?.args], argsOf(helped)];
    // Clients JSON.parse them: an empty string would throw.
    expect(args).toEqual([["{}"], ["{}"], ["{}"]]);
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
});
