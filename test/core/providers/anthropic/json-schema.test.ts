import { describe, expect, it } from "vitest";
import { toAnthropicSchema } from "../../../../core/providers/anthropic/json-schema.ts";

const closed = (properties: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  type: "object",
  properties,
  additionalProperties: false,
  ...more,
});

describe("toAnthropicSchema, a JSON Schema as Anthropic's constrained decoding takes it", () => {
  it.each([
    [
      "leaves a schema it takes as it is",
      closed({ a: { type: "string" } }),
      closed({ a: { type: "string" } }),
    ],
    [
      "moves numeric bounds into the description, after any there was",
      closed({ n: { type: "integer", description: "A count.", minimum: 1, maximum: 9, multipleOf: 2 } }),
      closed({ n: { type: "integer", description: "A count.\n\n{minimum: 1, maximum: 9, multipleOf: 2}" } }),
    ],
    [
      "moves string lengths and patterns",
      closed({ s: { type: "string", minLength: 2, maxLength: 5, pattern: "^a" } }),
      closed({ s: { type: "string", description: '{minLength: 2, maxLength: 5, pattern: "^a"}' } }),
    ],
    [
      "keeps a format Anthropic takes and moves another",
      closed({ at: { type: "string", format: "date-time" }, ip: { type: "string", format: "idn-email" } }),
      closed({
        at: { type: "string", format: "date-time" },
        ip: { type: "string", description: '{format: "idn-email"}' },
      }),
    ],
    [
      "keeps minItems 0 or 1 and moves larger bounds",
      closed({
        a: { type: "array", items: { type: "string" }, minItems: 1 },
        b: { type: "array", minItems: 2, maxItems: 4 },
      }),
      closed({
        a: { type: "array", items: { type: "string" }, minItems: 1 },
        b: { type: "array", description: "{minItems: 2, maxItems: 4}" },
      }),
    ],
    [
      "closes every object, which Anthropic requires in so many words",
      { type: "object", properties: { o: { type: "object", properties: {} } } },
      closed({ o: closed({}) }),
    ],
    [
      "walks items, anyOf, allOf and $defs, and takes oneOf as anyOf",
      {
        $defs: { Age: { type: "integer", minimum: 0 } },
        type: "object",
        properties: {
          list: { type: "array", items: { type: "number", exclusiveMinimum: 0 } },
          either: { oneOf: [{ $ref: "#/$defs/Age" }, { type: "string", maxLength: 3 }] },
          both: { allOf: [{ type: "object", properties: { x: { type: "integer", maximum: 5 } } }] },
        },
        additionalProperties: false,
      },
      {
        $defs: { Age: { type: "integer", description: "{minimum: 0}" } },
        ...closed({
          list: { type: "array", items: { type: "number", description: "{exclusiveMinimum: 0}" } },
          either: { anyOf: [{ $ref: "#/$defs/Age" }, { type: "string", description: "{maxLength: 3}" }] },
          both: { allOf: [closed({ x: { type: "integer", description: "{maximum: 5}" } })] },
        }),
      },
    ],
    [
      "keeps primitive enums and consts, without the type beside them, as the SDK does",
      closed({ e: { type: "string", enum: ["a", "b"] }, c: { type: "string", const: "x" } }),
      closed({ e: { enum: ["a", "b"] }, c: { const: "x" } }),
    ],
    [
      "drops $schema, which constrains nothing",
      { $schema: "https://json-schema.org/draft/2020-12/schema", ...closed({}) },
      closed({}),
    ],
    [
      "closes a nullable object, named by a type list",
      { type: ["object", "null"], properties: { a: { type: "string" } } },
      { type: ["object", "null"], properties: { a: { type: "string" } }, additionalProperties: false },
    ],
  ])("%s", (_, schema, expected) => {
    expect(toAnthropicSchema(schema)).toEqual({ schema: expected });
  });

  it.each([
    ["a map of values", { type: "object", additionalProperties: { type: "number" } }, "$"],
    [
      "an object open to anything",
      closed({ tags: { type: "object", additionalProperties: true } }),
      "$.properties.tags",
    ],
  ])("reports %s, which it cannot constrain, by its path", (_, schema, path) => {
    expect(toAnthropicSchema(schema)).toEqual({ openObjectAt: path });
  });

  it("leaves the caller's schema untouched", () => {
    const schema = closed({ n: { type: "integer", minimum: 1 } });
    const copy = structuredClone(schema);
    toAnthropicSchema(schema);
    expect(schema).toEqual(copy);
  });
});

describe("toAnthropicSchema and recursion", () => {
  const node = {
    type: "object",
    properties: { children: { type: "array", items: { $ref: "#/definitions/Node" } } },
  };
  it.each([
    [
      "a definition that refers to itself (zod's z.lazy)",
      { $ref: "#/definitions/Node", definitions: { Node: node } },
      "#/definitions/Node",
    ],
    ["the root referred to from inside", { type: "object", properties: { next: { $ref: "#" } } }, "#"],
    [
      "two definitions that refer to each other",
      {
        $ref: "#/$defs/A",
        $defs: {
          A: { type: "object", properties: { b: { $ref: "#/$defs/B" } } },
          B: { type: "object", properties: { a: { $ref: "#/$defs/A" } } },
        },
      },
      "#/$defs/A",
    ],
    [
      "a property that refers to the property holding it",
      {
        type: "object",
        properties: { a: { type: "object", properties: { b: { $ref: "#/properties/a" } } } },
      },
      "#/properties/a",
    ],
    [
      "a definition whose name needs escaping, by its escaped name",
      {
        $ref: "#/$defs/a~1b",
        $defs: { "a/b": { type: "object", properties: { x: { $ref: "#/$defs/a~1b" } } } },
      },
      "#/$defs/a~1b",
    ],
    [
      "a definition by its percent-encoded name",
      {
        $ref: "#/$defs/a%20b",
        $defs: { "a b": { type: "object", properties: { x: { $ref: "#/$defs/a%20b" } } } },
      },
      "#/$defs/a%20b",
    ],
  ])("reports %s, which Anthropic's grammar cannot take", (_, schema, at) => {
    expect(toAnthropicSchema(schema)).toEqual({ recursiveAt: at });
  });

  it("takes a definition used twice, which is no recursion", () => {
    const item = { type: "object", properties: { n: { type: "number" } } };
    const schema = {
      type: "object",
      properties: { a: { $ref: "#/$defs/Item" }, b: { $ref: "#/$defs/Item" } },
      $defs: { Item: item },
    };
    expect(toAnthropicSchema(schema)).toHaveProperty("schema");
  });

  /** Definitions d0 … d{depth}, each naming the next twice: 2^depth paths through 2 × depth references. */
  const chain = (depth: number, last: unknown = { type: "string" }) => ({
    $ref: "#/$defs/d0",
    $defs: Object.fromEntries(
      Array.from({ length: depth + 1 }, (_, i) => [
        `d${i}`,
        i === depth
          ? last
          : {
              type: "object",
              properties: { a: { $ref: `#/$defs/d${i + 1}` }, b: { $ref: `#/$defs/d${i + 1}` } },
            },
      ]),
    ),
  });

  it("searches each definition once: a chain naming each next one twice takes steps, not 2^depth", () => {
    const started = performance.now();
    // 2^40 paths: walked path by path, this never ends.
    expect(toAnthropicSchema(chain(40))).toHaveProperty("schema");
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("still finds a cycle at the far end of such a chain", () => {
    const back = { type: "object", properties: { up: { $ref: "#/$defs/d0" } } };
    expect(toAnthropicSchema(chain(40, back))).toEqual({ recursiveAt: "#/$defs/d0" });
  });
});
