import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../core/api/chat-request.ts";
import { toAnthropicRequest } from "../../../core/providers/anthropic/request.ts";
import { toGeminiRequest } from "../../../core/providers/gemini/request.ts";
import { schemaWithDescription } from "../../../core/providers/response-schema.ts";

const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };

describe("schemaWithDescription", () => {
  it.each([
    [undefined, schema, schema],
    ["Answer in French", schema, { ...schema, description: "Answer in French" }],
    [
      "Answer in French",
      { ...schema, description: "A greeting" },
      { ...schema, description: "Answer in French\n\nA greeting" },
    ],
  ])("carries the format's description %j at the schema's root", (description, input, expected) => {
    expect(schemaWithDescription(input, description)).toEqual(expected);
  });
});

describe("a json_schema response format's description", () => {
  const req = chatRequest.parse({
    model: "m",
    messages: [{ role: "user", content: "Hi" }],
    response_format: {
      type: "json_schema",
      json_schema: { name: "s", description: "Answer in French", schema },
    },
  });

  it.each([
    [
      "Anthropic",
      () =>
        JSON.parse(
          toAnthropicRequest(req, { providerId: "an", model: "claude-sonnet-4-5", apiKey: "k" }).body,
        ).output_config.format.schema,
    ],
    [
      "Gemini",
      () =>
        JSON.parse(toGeminiRequest(req, { providerId: "ge", model: "gemini-2.5-flash", apiKey: "k" }).body)
          .generationConfig.responseJsonSchema,
    ],
  ])("reaches %s in the schema, neither refused nor dropped", (_, sent) => {
    expect(sent().description).toBe("Answer in French");
  });
});
