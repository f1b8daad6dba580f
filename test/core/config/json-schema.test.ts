import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../../core/config/json-schema.ts";
import { parseConfigText } from "../../../core/config/parse.ts";

const root = join(import.meta.dirname, "../../..");

describe("the published config JSON Schema", () => {
  it("is the committed file, regenerated from the zod schema (run `npm run schema` after changing it)", () => {
    const committed = JSON.parse(readFileSync(join(root, "schema/gateway-config.schema.json"), "utf8"));
    expect(committed).toEqual(configJsonSchema());
  });

  it("accepts the example config, which the README points to", () => {
    const cfg = parseConfigText(
      readFileSync(join(root, "config/example.json"), "utf8"),
      "config/example.json",
    );
    expect(cfg.models.find((m) => m.alias === "smart")?.targets).toHaveLength(3);
  });

  it("carries the rules start-up applies to URLs and provider headers as patterns an editor checks", () => {
    const schema = configJsonSchema() as {
      properties: { providers: { items: { properties: Record<string, Record<string, unknown>> } } };
    };
    const provider = schema.properties.providers.items.properties;
    const url = new RegExp(String(provider.baseUrl?.pattern));
    expect(
      [
        "ftp://x",
        "mailto:a@b.c",
        "http:foo",
        "http://admin:pw@host/v1",
        " http://host/v1",
        "http://host/v1\u00a0",
        "http://ho\nst/v1",
        "http://host/v\u00011",
        "http://host/v1\u200b",
        "http://host/v1\u00ad",
        "http://host/v1\u2066",
        "http://ho\u034fst/v1",
      ].filter((u) => url.test(u)),
    ).toEqual([]);
    expect(url.test("https://api.openai.com/v1")).toBe(true);
    const names = (provider.headers!.propertyNames as { allOf: Array<{ pattern: string }> }).allOf.map(
      (p) => new RegExp(p.pattern),
    );
    const accepted = (name: string) => names.every((p) => p.test(name));
    expect(["authorization", "x-api-key", "Anthropic-Beta"].filter(accepted)).toEqual([]);
    expect(accepted("anthropic-beta")).toBe(true);
  });
});
