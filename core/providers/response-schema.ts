/**
 * A `json_schema` response format's schema with the format's `description` carried in it. OpenAI reads
 * the description to decide how to answer; Anthropic's `output_config.format` and Gemini's
 * `responseJsonSchema` have no slot of their own for it, but both read a schema's `description`, so it
 * goes at the schema's root (before the root's own description, if it has one) rather than being
 * dropped or refused.
 */
export function schemaWithDescription(
  schema: Record<string, unknown>,
  description: string | undefined,
): Record<string, unknown> {
  if (description === undefined || description === "") return schema;
  const own = typeof schema.description === "string" && schema.description !== "" ? schema.description : "";
  return { ...schema, description: own ? `${description}\n\n${own}` : description };
}
