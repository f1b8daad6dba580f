/**
 * A JSON Schema as Gemini's `responseJsonSchema` and `parametersJsonSchema` read it. Google lists the
 * keywords it supports, among them `$defs` and `$ref` but not draft-07's `definitions`, which the OpenAI
 * SDK's zod helpers still write (`#/definitions/…`): those are renamed, and their references with them.
 * `$schema` names a dialect and constrains nothing, so it is left out. Pure; the input is not changed.
 */
export function toGeminiSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _, ...rest } = schema;
  // A schema with both keeps its `definitions` as they are: renaming would overwrite `$defs`.
  if (rest.definitions === undefined || "$defs" in rest) return rest;
  const { definitions, ...others } = rest;
  return renameRefs({ ...others, $defs: definitions }) as Record<string, unknown>;
}

/** Every `$ref` into `#/definitions/` pointed at `#/$defs/` instead. */
function renameRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renameRefs);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === "$ref" && typeof v === "string" && v.startsWith("#/definitions/")
        ? `#/$defs/${v.slice("#/definitions/".length)}`
        : renameRefs(v),
    ]),
  );
}
