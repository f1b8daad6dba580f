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
});
