import { z } from "zod";
import { gatewayConfigSchema } from "./schema.ts";

/**
 * The JSON Schema published for editors, generated from the one zod schema so the two cannot drift
 * (a test compares it with the committed file). Cross-reference rules (unknown provider, duplicate id)
 * are enforced at start-up only: JSON Schema cannot express them.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(gatewayConfigSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    title: "LLM gateway configuration",
  };
}
