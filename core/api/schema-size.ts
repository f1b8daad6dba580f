/**
 * How many properties a JSON Schema declares in all (every `properties` object's keys, at any depth,
 * definitions included), counted up to `past` (the count stops once it passes that). Iterative, so a
 * schema nested past the call stack's depth is counted, not a crash.
 */
export function schemaProperties(schema: unknown, past: number): number {
  let count = 0;
  const stack: unknown[] = [schema];
  while (stack.length > 0 && count <= past) {
    const node = stack.pop();
    if (Array.isArray(node)) for (const item of node) stack.push(item);
    else if (typeof node === "object" && node !== null)
      for (const [key, value] of Object.entries(node)) {
        if (key === "properties" && typeof value === "object" && value !== null && !Array.isArray(value))
          count += Object.keys(value).length;
        stack.push(value);
      }
  }
  return count;
}

/**
 * The most properties a schema (a tool's parameters, a response format) may declare: OpenAI's limit for
 * strict schemas (Structured Outputs, "Supported schemas": 5 000 object properties in total), held for
 * every schema and target. Past it, translating one schema for Anthropic or Gemini cost seconds of the
 * process's CPU (400 000 properties fit a 4 MiB body).
 */
export const MAX_SCHEMA_PROPERTIES = 5_000;
