import { describe, expect, it } from "vitest";
import { type ChatRequest, chatRequest } from "../../../core/api/chat-request.ts";
import { redactPrompt } from "../../../core/gateway/redact-prompt.ts";

const EMAIL = "jane.doe@example.com";
const request = (over: Record<string, unknown>): ChatRequest =>
  chatRequest.parse({ model: "m", messages: [{ role: "user", content: `Mail ${EMAIL}` }], ...over });

describe("redactPrompt", () => {
  it("masks message text and counts what it masked", () => {
    const { request: sent, masked } = redactPrompt(request({}));
    expect(JSON.stringify(sent)).not.toContain(EMAIL);
    expect(masked).toBe(1);
  });

  it("gives back the request itself when it masked nothing, so a mapping made of it still holds", () => {
    const req = chatRequest.parse({
      model: "m",
      messages: [{ role: "user", content: "Nothing personal here." }],
      prediction: { type: "content", content: "Nothing either." },
    });
    expect(redactPrompt(req)).toEqual({ request: req, masked: 0 });
    expect(redactPrompt(req).request).toBe(req);
  });

  it.each([
    ["as text", `Dear ${EMAIL},`],
    ["as text parts", [{ type: "text", text: `Dear ${EMAIL},` }]],
  ])("masks a prediction given %s, which OpenAI would otherwise receive", (_, content) => {
    const { request: sent, masked } = redactPrompt(request({ prediction: { type: "content", content } }));
    expect(JSON.stringify(sent.prediction)).not.toContain(EMAIL);
    expect(sent.prediction?.type).toBe("content");
    expect(masked).toBe(2);
  });

  it("masks the arguments of past tool calls and a past refusal, which the provider reads back", () => {
    const { request: sent, masked } = redactPrompt(
      request({
        messages: [
          { role: "user", content: "Find my account." },
          {
            role: "assistant",
            content: null,
            refusal: `Not for ${EMAIL}.`,
            tool_calls: [
              { id: "c1", type: "function", function: { name: "lookup", arguments: `{"email":"${EMAIL}"}` } },
            ],
          },
          { role: "tool", tool_call_id: "c1", content: "found" },
        ],
      }),
    );
    expect(JSON.stringify(sent)).not.toContain(EMAIL);
    const call = sent.messages[1]?.role === "assistant" ? sent.messages[1].tool_calls?.[0] : undefined;
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ email: "[EMAIL]" });
    expect(masked).toBe(2);
  });

  it("masks end-user ids, which teams often fill with an email address", () => {
    const { request: sent } = redactPrompt(request({ user: EMAIL, safety_identifier: EMAIL }));
    expect(sent).toMatchObject({ user: "[EMAIL]", safety_identifier: "[EMAIL]" });
  });

  it.each([
    ["a card number sent as a JSON number", '{"card":4111111111111111,"n":3}', { card: "[CARD]", n: 3 }],
    ["an email nested in arrays", `{"to":["${EMAIL}"],"cc":[]}`, { to: ["[EMAIL]"], cc: [] }],
  ])("keeps past tool-call arguments valid JSON while masking %s", (_, args, expected) => {
    const { request: sent } = redactPrompt(
      request({
        messages: [
          { role: "user", content: "Pay." },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c1", type: "function", function: { name: "pay", arguments: args } }],
          },
          { role: "tool", tool_call_id: "c1", content: "done" },
        ],
      }),
    );
    const call = sent.messages[1]?.role === "assistant" ? sent.messages[1].tool_calls?.[0] : undefined;
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual(expected);
  });

  it("masks tool-call arguments that are not JSON as text", () => {
    const { request: sent } = redactPrompt(
      request({
        messages: [
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: `to ${EMAIL}` } }],
          },
          { role: "tool", tool_call_id: "c1", content: "ok" },
        ],
      }),
    );
    expect(JSON.stringify(sent)).not.toContain(EMAIL);
  });

  it("masks participant names and metadata values", () => {
    const { request: sent } = redactPrompt(
      request({
        messages: [{ role: "user", name: EMAIL, content: "Hi" }],
        metadata: { requester: EMAIL, team: "search" },
      }),
    );
    // In the characters OpenAI takes in a name.
    expect(sent.messages[0]).toMatchObject({ name: "_EMAIL_" });
    expect(sent.metadata).toEqual({ requester: "[EMAIL]", team: "search" });
  });

  it("masks metadata keys, and tool call ids alike where the call is made and where it is answered", () => {
    const { request: sent, masked } = redactPrompt(
      request({
        messages: [
          { role: "user", content: "Hi" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: EMAIL, type: "function", function: { name: "f", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: EMAIL, content: "ok" },
        ],
        metadata: { [EMAIL]: "x", "ops@example.org": "y" },
      }),
    );
    expect(sent.metadata).toEqual({ "[EMAIL]": "x", "[EMAIL] 2": "y" });
    expect(sent.messages[1]).toMatchObject({ tool_calls: [{ id: "[EMAIL]" }] });
    expect(sent.messages[2]).toMatchObject({ tool_call_id: "[EMAIL]" });
    expect(masked).toBe(3);
  });

  it("keeps tool call ids that mask alike apart, each pairing with its result", () => {
    const call = (id: string) => ({
      id,
      type: "function" as const,
      function: { name: "f", arguments: "{}" },
    });
    const { request: sent } = redactPrompt(
      request({
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: null, tool_calls: [call("a@example.com"), call("b@example.com")] },
          { role: "tool", tool_call_id: "b@example.com", content: "B" },
          { role: "tool", tool_call_id: "a@example.com", content: "A" },
        ],
      }),
    );
    expect(sent.messages[1]).toMatchObject({ tool_calls: [{ id: "[EMAIL]" }, { id: "[EMAIL] 2" }] });
    expect(sent.messages.slice(2).map((m) => (m as { tool_call_id: string }).tool_call_id)).toEqual([
      "[EMAIL] 2",
      "[EMAIL]",
    ]);
  });

  it("reads a metadata value with its key as its label", () => {
    const { request: sent } = redactPrompt(request({ metadata: { phone: "4155550132", team: "search" } }));
    expect(sent.metadata).toEqual({ phone: "[PHONE]", team: "search" });
  });

  it.each([
    ["a stop sequence", { stop: `Regards, ${EMAIL}` }, 2],
    ["stop sequences", { stop: ["END", EMAIL] }, 2],
    [
      "a tool's description and parameter schema",
      {
        tools: [
          {
            type: "function",
            function: {
              name: "notify",
              description: `Mails ${EMAIL}`,
              parameters: { type: "object", properties: { to: { type: "string", enum: [EMAIL] } } },
            },
          },
        ],
      },
      3,
    ],
    [
      "a response format's description and schema",
      {
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "contact",
            description: `The contact of ${EMAIL}`,
            schema: { type: "object", properties: { mail: { type: "string", examples: [EMAIL] } } },
          },
        },
      },
      3,
    ],
  ])("masks %s, which the provider reads as well", (_, over, count) => {
    const { request: sent, masked } = redactPrompt(request(over));
    expect(JSON.stringify(sent)).not.toContain(EMAIL);
    expect(masked).toBe(count);
    // Still a request the schema takes, names kept.
    expect(chatRequest.parse(sent)).toEqual(sent);
  });

  it("keeps tool and format names and schema structure while masking", () => {
    const { request: sent } = redactPrompt(
      request({
        tools: [
          {
            type: "function",
            function: {
              name: "lookup",
              parameters: { type: "object", required: ["id"], description: EMAIL },
            },
          },
        ],
      }),
    );
    expect(sent.tools?.[0]?.function).toEqual({
      name: "lookup",
      parameters: { type: "object", required: ["id"], description: "[EMAIL]" },
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["a card after a newline", { description: "e.g.\n4111111111111111" }, { description: "e.g.\n[CARD]" }],
    [
      "an address after a newline",
      { description: "Contact:\njane@example.com" },
      { description: "Contact:\n[EMAIL]" },
    ],
    ["a card as a number", { const: 4111111111111111 }, { const: "[CARD]" }],
    ["an SSN after a tab", { default: "ssn\t219-09-9999" }, { default: "ssn\t[SSN]" }],
  ])("masks a schema's single value holding %s, keeping it JSON", (_, texts, masked) => {
    const { request: sent, masked: count } = redactPrompt(
      request({
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object", ...texts } } }],
      }),
    );
    expect(sent.tools?.[0]?.function.parameters).toEqual({ type: "object", ...masked });
    expect(count).toBeGreaterThan(0);
  });

  it("masks a schema's names alike where they are named and where required lists and $refs point at them", () => {
    const schema = {
      type: "object",
      properties: {
        [EMAIL]: { type: "string", description: `Mail to ${EMAIL}` },
        to: { $ref: `#/$defs/${EMAIL}` },
        description: { type: "string", enum: [EMAIL, "ops@example.org", "none"] },
      },
      required: [EMAIL, "to", "description"],
      additionalProperties: false,
      $defs: { [EMAIL]: { type: "string", title: EMAIL } },
    };
    const { request: sent } = redactPrompt(
      request({ response_format: { type: "json_schema", json_schema: { name: "n", strict: true, schema } } }),
    );
    const format = sent.response_format;
    expect(format?.type === "json_schema" ? format.json_schema.schema : undefined).toEqual({
      type: "object",
      properties: {
        "[EMAIL]": { type: "string", description: "Mail to [EMAIL]" },
        to: { $ref: "#/$defs/[EMAIL]" },
        // A property named like a keyword is a property; its enum masks alike, once.
        description: { type: "string", enum: ["[EMAIL]", "none"] },
      },
      required: ["[EMAIL]", "to", "description"],
      additionalProperties: false,
      $defs: { "[EMAIL]": { type: "string", title: "[EMAIL]" } },
    });
  });

  it("keeps every property whose names mask alike, each named alike wherever the schema names it", () => {
    const schema = {
      type: "object",
      properties: {
        "a@example.com": { type: "string" },
        "b@example.com": { type: "integer" },
        "+14155550132": { $ref: "#/$defs/+14155550132" },
      },
      required: ["a@example.com", "b@example.com"],
      dependentRequired: { "a@example.com": ["b@example.com"] },
      $defs: { "+14155550132": { type: "string", pattern: "^leak@example.com$", "x-owner": EMAIL } },
      "c@example.com": { type: "string" },
    };
    const { request: sent } = redactPrompt(
      request({ tools: [{ type: "function", function: { name: "f", parameters: schema } }] }),
    );
    const out = JSON.stringify(sent.tools?.[0]?.function.parameters);
    expect(JSON.parse(out)).toEqual({
      type: "object",
      properties: {
        "[EMAIL]": { type: "string" },
        "[EMAIL] 2": { type: "integer" },
        "[PHONE]": { $ref: "#/$defs/[PHONE]" },
      },
      required: ["[EMAIL]", "[EMAIL] 2"],
      dependentRequired: { "[EMAIL]": ["[EMAIL] 2"] },
      $defs: { "[PHONE]": { type: "string", pattern: "^\\[EMAIL\\]$", "x-owner": "[EMAIL]" } },
      // A key the vocabulary does not have is masked as a name.
      "[EMAIL]": { type: "string" },
    });
  });

  it("keeps a schema valid: ids and refs masked alike, encodings kept, patterns still patterns", () => {
    const schema = {
      $id: "urn:p:jane@example.com",
      type: "object",
      properties: {
        "a@example.com": { $ref: "urn:p:jane@example.com#/$defs/100%25" },
        tel: { type: "string", pattern: "^\\+1 415 555 0199$" },
      },
      patternProperties: { "^\\+1 415 555 0199$": { type: "string" } },
      $defs: { "100%": { type: "string" } },
    };
    const { request: sent } = redactPrompt(
      request({
        response_format: { type: "json_schema", json_schema: { name: "jane.doe@example.com", schema } },
      }),
    );
    const format = sent.response_format;
    const js = format?.type === "json_schema" ? format.json_schema : undefined;
    expect(js?.name).toBe("_EMAIL_");
    expect(js?.schema).toEqual({
      $id: "urn:p:[EMAIL]",
      type: "object",
      properties: {
        "[EMAIL]": { $ref: "urn:p:[EMAIL]#/$defs/100%25" },
        tel: { type: "string", pattern: "^\\[PHONE\\]$" },
      },
      patternProperties: { "^\\[PHONE\\]$": { type: "string" } },
      $defs: { "100%": { type: "string" } },
    });
    for (const p of ["^\\[PHONE\\]$"]) expect(() => new RegExp(p, "u")).not.toThrow();
  });

  it("masks a prompt cache key, which OpenAI suggests a user's id for", () => {
    const { request: sent } = redactPrompt(request({ prompt_cache_key: `user-${EMAIL}` }));
    expect(sent.prompt_cache_key).toBe("[EMAIL]");
  });

  it("leaves definitions without findings as they are", () => {
    const tools = [{ type: "function" as const, function: { name: "f", parameters: { type: "object" } } }];
    const { request: sent, masked } = redactPrompt(request({ tools, stop: "END" }));
    expect(masked).toBe(1);
    expect(sent.tools).toEqual(tools);
    expect(sent.stop).toBe("END");
  });

  it("adds no prediction to a request without one", () => {
    expect(redactPrompt(request({})).request).not.toHaveProperty("prediction");
  });
});

describe("redactPrompt, for message text that holds JSON", () => {
  it("masks a JSON document by its keys and keeps it valid JSON (a count under `mobile` stays)", () => {
    const doc = '{"mobile":1234567,"phone":"4155550132","stats":{"mobile":4155550132}}';
    const { request: out, masked } = redactPrompt(request({ messages: [{ role: "user", content: doc }] }));
    expect(JSON.parse(out.messages[0]?.content as string)).toEqual({
      mobile: 1234567,
      phone: "[PHONE]",
      stats: { mobile: "[PHONE]" },
    });
    expect(masked).toBe(2);
  });

  it("leaves an unquoted number after a quoted label alone in text that is not JSON (it would break it)", () => {
    const text = 'truncated: {"mobile":1234567, "phone":"4155550132"';
    const { request: out } = redactPrompt(request({ messages: [{ role: "user", content: text }] }));
    expect(out.messages[0]?.content).toBe('truncated: {"mobile":1234567, "phone":"[PHONE]"');
  });
});
