import { describe, expect, it } from "vitest";
import { toGeminiSchema } from "../../../../core/providers/gemini/json-schema.ts";

describe("toGeminiSchema", () => {
  it("renames draft-07 definitions to $defs, references included, as the OpenAI SDK's zod helpers write them", () => {
    const sdk = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: {
        a: { $ref: "#/definitions/Item" },
        b: { type: "array", items: { $ref: "#/definitions/Item" } },
      },
      definitions: { Item: { type: "object", properties: { n: { type: "number" } } } },
    };
    expect(toGeminiSchema(sdk)).toEqual({
      type: "object",
      properties: { a: { $ref: "#/$defs/Item" }, b: { type: "array", items: { $ref: "#/$defs/Item" } } },
      $defs: { Item: { type: "object", properties: { n: { type: "number" } } } },
    });
    expect(sdk.definitions).toBeDefined();
  });

  it.each([
    ["without definitions", { type: "string" }],
    ["with $defs already", { type: "object", $defs: { A: {} }, definitions: { B: {} } }],
  ])("leaves a schema %s as it is, but for $schema", (_, schema) => {
    expect(toGeminiSchema({ ...schema, $schema: "x" })).toEqual(schema);
  });
});
