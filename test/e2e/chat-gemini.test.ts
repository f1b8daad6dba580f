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
