import OpenAI from "openai";
import type { RunnableToolFunctionWithParse } from "openai/lib/RunnableFunction";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { collect } from "./collect.ts";
import { API_KEY, type Harness, PROVIDERS, rawRequest, SCOPED_KEY, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const auth = { authorization: `Bearer ${API_KEY}` };
const USAGE = { input: 123, output: 45, cached: 7 };
const TEXT = "Grüße aus dem Simulator 🌍 — ok";

describe.each(PROVIDERS)("chat completions through $name", ({ model, sim }) => {
  it.each([
    ["in its message before any content, as an error status", 0, "message"],
    ["in its message mid-stream, as an in-band error event", 3, "message"],
    ["as its type mid-stream, which becomes the error's code", 3, "type"],
  ] as const)("masks the gateway's credential a stream error echoes %s", async (_, afterEvents, where) => {
    sim(h).enqueueScripts({ text: TEXT, usage: USAGE });
    sim(h).enqueueFaults({ kind: "error-mid", afterEvents, status: 400, echoCredential: where });
    const res = await rawRequest(h, {
      headers: auth,
      body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "Hi" }] }),
    });
    // The harness's provider credential is "test-key".
    expect(res.text).toContain("[REDACTED]");
    expect(res.text).not.toContain("test-key");
    await expect.poll(() => h.outcomes.length).toBeGreaterThan(0);
    expect(JSON.stringify(h.outcomes)).not.toContain("test-key");
  });

  it.each([false, true])(
    "masks the gateway's credential an answer's own text repeats (stream: %s)",
    async (stream) => {
      // The harness's provider credential is "test-key": a provider (or a proxy) echoing it as text.
      sim(h).enqueueScripts({ text: "the key you sent is test-key, ok", usage: USAGE });
      const res = await rawRequest(h, {
        headers: auth,
        body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "Hi" }] }),
      });
      expect(res.status).toBe(200);
      expect(res.text).toContain("[REDACTED]");
      expect(res.text).not.toContain("test-key");
      await expect.poll(() => h.outcomes.length).toBeGreaterThan(0);
      expect(JSON.stringify(h.outcomes)).not.toContain("test-key");
    },
  );

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

  it("takes the tool loop LangChain's agents send: a named assistant turn and tool results with their tool's name", async () => {
    sim(h).enqueueScripts({ text: TEXT, usage: USAGE });
    const messages = [
      { role: "user", content: "weather in Paris?" },
      {
        role: "assistant",
        name: "model",
        content: "",
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_1", name: "get_weather", content: "sunny" },
    ] as OpenAI.Chat.Completions.ChatCompletionMessageParam[];
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } },
    ];
    const res = await h.client.chat.completions.create({ model, messages, tools });
    expect(res.choices[0]?.message.content).toBe(TEXT);
  });

  it("takes back an assistant message as a client got it, response-only fields and all, and sends none of them on", async () => {
    // What openai-python sends for `messages.append(response.choices[0].message)` after an OpenAI answer
    // (`model_dump()` adds `tool_calls: null`), plus the Node stream helper's `parsed`.
    const echoed = {
      role: "assistant",
      content: "Hello.",
      refusal: null,
      annotations: [],
      audio: null,
      function_call: null,
      tool_calls: null,
      parsed: null,
    } as unknown as OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam;
    const res = await h.client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Hi" }, echoed, { role: "user", content: "Again" }],
    });
    expect(res.choices[0]?.message.content).toBe("Echo: Again");
    const sent = JSON.stringify(sim(h).requests.at(-1)?.body);
    expect(sent).toContain("Hello.");
    for (const field of ["annotations", "parsed", "audio", "function_call", "tool_calls"])
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

// Gemini cannot enforce strict schemas: a strict tool is a 400 there, before any call.
describe.each(PROVIDERS.filter((p) => p.name !== "gemini"))(
  "strict tool calls through $name",
  ({ model, sim }) => {
    it("takes back the stream helper's final message with its strict tool call's parsed_arguments, and sends them on to nobody", async () => {
      sim(h).enqueueScripts(
        { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] },
        { text: "It is 21 °C in Paris." },
      );
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
        {
          type: "function",
          function: {
            name: "get_weather",
            strict: true,
            parameters: {
              type: "object",
              properties: { city: { type: "string" } },
              required: ["city"],
              additionalProperties: false,
            },
          },
        },
      ];
      const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
        { role: "user", content: "Weather in Paris?" },
      ];
      const got = await h.client.chat.completions.stream({ model, messages, tools }).finalMessage();
      const call = got.tool_calls?.[0];
      // Not in the SDK's declared type: the helper adds it to the message it returns.
      const fn = call?.type === "function" ? (call.function as { parsed_arguments?: unknown }) : undefined;
      expect(fn?.parsed_arguments).toEqual({ city: "Paris" });
      messages.push(got, { role: "tool", tool_call_id: call!.id, content: "21 °C" });
      const res = await h.client.chat.completions.create({ model, messages, tools });
      expect(res.choices[0]?.message.content).toBe("It is 21 °C in Paris.");
      const sent = JSON.stringify(sim(h).requests.at(-1)?.body);
      expect(sent).toContain("Paris");
      expect(sent).not.toContain("parsed_arguments");
    });
  },
);

describe("a Gemini answer the gateway cannot use", () => {
  it("masks the gateway's credential its finishMessage echoes", async () => {
    h.gemini.enqueueScripts({
      text: "",
      geminiFinish: { reason: "MALFORMED_FUNCTION_CALL", message: "Malformed call with key {credential}" },
    });
    const res = await rawRequest(h, {
      headers: auth,
      body: JSON.stringify({ model: "ge/gemini-sim", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(res.status).toBe(502);
    expect(res.text).toContain("[REDACTED]");
    expect(res.text).not.toContain("test-key");
  });
});

describe("OpenAI annotations", () => {
  // A search model's citations (OpenAI's "Web search" guide): `url_citation`s on the message, and a
  // type the gateway has never seen, which must reach the caller all the same.
  const annotations = [
    {
      type: "url_citation",
      url_citation: { start_index: 0, end_index: 5, url: "https://example.com/news", title: "News" },
    },
    { type: "future_citation", future_citation: { ref: 7 } },
  ];
  const params = { model: "oa/gpt-sim", messages: [{ role: "user" as const, content: "News?" }] };

  it("reach the caller of a non-stream answer as OpenAI sent them", async () => {
    h.openai.enqueueScripts({ text: "Today: rain.", annotations });
    const res = await h.client.chat.completions.create(params);
    expect(res.choices[0]?.message.annotations).toEqual(annotations);
  });

  it("reach the caller of a stream on their delta, which the SDK's stream helper puts on the message", async () => {
    h.openai.enqueueScripts({ text: "Today: rain.", annotations });
    const stream = h.client.chat.completions.stream(params);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("Today: rain.");
    expect(final.choices[0]?.message.annotations).toEqual(annotations);
  });
});

describe("routing and the built-in provider", () => {
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

  it.each(["smart", "oa/gpt-sim", "mock/echo"])("retrieves %s as the list shows it", async (id) => {
    expect(await h.client.models.retrieve(id)).toEqual({
      id,
      object: "model",
      created: 0,
      owned_by: id.includes("/") ? id.split("/")[0] : "gateway",
    });
  });

  it("retrieves a provider/model the provider does not list, which the key may still call", async () => {
    // `providers[].models` is what the list shows; routing takes any model of a provider switched on.
    expect(await h.client.models.retrieve("oa/gpt-4o")).toEqual({
      id: "oa/gpt-4o",
      object: "model",
      created: 0,
      owned_by: "oa",
    });
  });

  it("takes a provider/model id with its slash unencoded too", async () => {
    const res = await rawRequest(h, { method: "GET", path: "/v1/models/oa/gpt-sim", headers: auth });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: "oa/gpt-sim" });
  });

  it.each([
    ["a model nobody configured", API_KEY, "gpt-unknown"],
    ["a provider that is switched off", API_KEY, "off/gpt-4o"],
    ["a model outside the key's allow-list", SCOPED_KEY, "oa/gpt-sim"],
    ["a provider nobody configured", API_KEY, "nope/gpt-4o"],
  ])("answers 404 model_not_found for %s", async (_, key, id) => {
    const client = new OpenAI({ apiKey: key, baseURL: `${h.gateway.url}/v1`, maxRetries: 0 });
    const err = await client.models.retrieve(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ code: "model_not_found", param: "model" });
  });

  it("records an unknown path as `unmatched`, so metrics never get a dimension per URL tried", async () => {
    const res = await rawRequest(h, { method: "GET", path: "/v1/no-such-thing-42", headers: auth });
    expect(res.status).toBe(404);
    await expect.poll(() => h.outcomes.map((o) => o.endpoint)).toContain("unmatched");
    expect(h.outcomes.some((o) => o.endpoint.includes("no-such-thing"))).toBe(false);
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

  it("embeds through an alias's next target when its first provider has no embeddings", async () => {
    const res = await h.client.embeddings.create({ model: "opus-first", input: "alpha" }).withResponse();
    expect(res.data.data).toHaveLength(1);
    expect(res.response.headers.get("x-gateway-provider")).toBe("oa");
    expect(h.anthropic.requests).toHaveLength(0);
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
