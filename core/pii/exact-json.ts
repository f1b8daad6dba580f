/** A number as JSON text held verbatim (ES2025 `JSON.rawJSON`, which JSON.stringify writes out as is). */
export interface RawJson {
  readonly rawJSON: string;
}
/**
 * JSON.parse with source text access and JSON.rawJSON (ES2025; Node 21 and later), which the
 * TypeScript lib of this project's target does not declare yet.
 */
export const exactJson = JSON as unknown as {
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): RawJson;
  isRawJSON(value: unknown): value is RawJson;
};
/**
 * A JSON.parse reviver that keeps every number as written, for text that is rebuilt after masking: a
 * double would turn 1790000000000000001 into …000, 10.50 into 10.5 and 1e400 into null.
 */
export const keepNumberText = (_key: string, value: unknown, context: { source?: string }): unknown =>
  typeof value === "number" && context.source !== undefined ? exactJson.rawJSON(context.source) : value;
