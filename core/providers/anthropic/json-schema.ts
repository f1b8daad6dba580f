/**
 * A JSON Schema as Anthropic's constrained decoding takes it (structured outputs: `output_config.format`
 * and strict tools). Anthropic compiles such a schema into a grammar and refuses, with 400, keywords
 * OpenAI accepts ("For 'integer' type, property 'minimum' is not supported"): per its structured-outputs
 * docs ("JSON Schema limitations") numeric bounds (minimum, maximum, multipleOf…), string lengths,
 * array bounds beyond `minItems` 0 or 1, formats outside its list, and any `additionalProperties` but
 * `false`, which every object must state. Anthropic's own SDKs (`transformJSONSchema` in
 * @anthropic-ai/sdk, the Python SDK's equivalent) keep what the grammar takes and move the rest into the
 * node's `description`, so the model still reads the constraint (a `pattern` too, which the docs allow
 * only in simple forms); so does this, without their throwing on a schema without a type. The answer is
 * not checked against the moved constraints: the caller validates, as the SDKs' `parse` does. The one
 * thing it cannot carry is an open object (a map whose `additionalProperties` is a schema or `true`):
 * the SDKs close it, which would let the model write only `{}`, so it is reported instead.
 */

export type JsonSchema = Record<string, unknown>;

/** The schema to send, or the path of an object Anthropic cannot leave open, or a recursive reference. */
export type AnthropicSchema = { schema: JsonSchema } | { openObjectAt: string } | { recursiveAt: string };

/** String formats Anthropic's grammar takes (the SDK's SUPPORTED_STRING_FORMATS). */
const FORMATS = new Set([
  "date-time",
  "time",
  "date",
  "duration",
  "email",
  "hostname",
  "uri",
  "ipv4",
  "ipv6",
  "uuid",
]);

const isRecord = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);
const isPrimitive = (v: unknown): boolean => v === null || typeof v !== "object";

/** Thrown from deep in the walk, caught at its top: the open object's path. */
class OpenObject extends Error {
  readonly path: string;
  constructor(path: string) {
    super(path);
    this.path = path;
  }
}

const mapValues = (o: unknown, path: string): JsonSchema =>
  Object.fromEntries(Object.entries(isRecord(o) ? o : {}).map(([k, v]) => [k, toNode(v, `${path}.${k}`)]));

const isObjectType = (type: unknown, s: JsonSchema): boolean =>
  type === "object" || (Array.isArray(type) && type.includes("object")) || "properties" in s;

/** The rest of a node, as the SDK writes it after the description: `{minimum: 1, pattern: "^a"}`. */
const asText = (rest: JsonSchema): string =>
  `{${Object.entries(rest)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(", ")}}`;

function toNode(input: unknown, path: string): unknown {
  if (!isRecord(input)) return input;
  const rest: JsonSchema = { ...input };
  const take = (key: string): unknown => {
    const v = rest[key];
    delete rest[key];
    return v;
  };
  const out: JsonSchema = {};
  for (const defs of ["$defs", "definitions"]) {
    if (defs in rest) out[defs] = mapValues(take(defs), `${path}.${defs}`);
  }
  // A reference stands for its definition; the SDK sends it alone.
  if ("$ref" in rest) return { ...out, $ref: rest.$ref };
  // Names the dialect and constrains nothing.
  take("$schema");
  const enumValues = rest.enum;
  if (Array.isArray(enumValues) && enumValues.length > 0 && enumValues.every(isPrimitive))
    out.enum = take("enum");
  if ("const" in rest && isPrimitive(rest.const)) out.const = take("const");
  const type = take("type");
  // The literals say it all; the SDK leaves the type out beside them.
  if (type !== undefined && !("enum" in out) && !("const" in out)) out.type = type;
  for (const [from, to] of [
    ["anyOf", "anyOf"],
    ["oneOf", "anyOf"],
    ["allOf", "allOf"],
  ] as const) {
    const variants = rest[from];
    if (Array.isArray(variants) && !(to in out)) {
      take(from);
      out[to] = variants.map((v, i) => toNode(v, `${path}.${from}[${i}]`));
    }
  }
  for (const key of ["description", "title"]) if (typeof rest[key] === "string") out[key] = take(key);
  if (isObjectType(type, input)) {
    out.properties = mapValues(take("properties"), `${path}.properties`);
    if ("required" in rest) out.required = take("required");
    const additional = take("additionalProperties");
    if (additional !== undefined && additional !== false) throw new OpenObject(path);
    out.additionalProperties = false;
  }
  if (typeof rest.format === "string" && FORMATS.has(rest.format)) out.format = take("format");
  if (isRecord(rest.items)) out.items = toNode(take("items"), `${path}.items`);
  if (rest.minItems === 0 || rest.minItems === 1) out.minItems = take("minItems");
  if (Object.keys(rest).length > 0)
    out.description = `${typeof out.description === "string" ? `${out.description}\n\n` : ""}${asText(rest)}`;
  return out;
}

/**
 * `schema` as Anthropic's constrained decoding takes it: unsupported keywords moved into the
 * description of the node that had them (recursively: properties, items, anyOf/oneOf/allOf, $defs),
 * `oneOf` as `anyOf`, and every object closed with `additionalProperties: false`. An object left open
 * on purpose is reported by its path (`$.properties.tags`), for the caller to refuse.
 */
export function toAnthropicSchema(schema: JsonSchema): AnthropicSchema {
  const recursive = recursiveRef(schema);
  if (recursive) return { recursiveAt: recursive };
  try {
    return { schema: toNode(schema, "$") as JsonSchema };
  } catch (err) {
    if (err instanceof OpenObject) return { openObjectAt: err.path };
    throw err;
  }
}

/**
 * What a local `$ref` points at (`#` the root, `#/$defs/Item`, any JSON pointer into the schema, its
 * segments percent- and `~`-escaped as RFC 6901 says), or undefined for one it cannot follow (another
 * document, a pointer to nothing). `name` is the pointer unescaped, so two spellings of one place are
 * one place to the cycle check.
 */
function target(ref: string, root: JsonSchema): { name: string; node: unknown } | undefined {
  if (ref === "#") return { name: "#", node: root };
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  const segments: string[] = [];
  for (const raw of ref.slice(2).split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    } catch {
      return undefined;
    }
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (isRecord(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
    segments.push(segment);
  }
  return { name: JSON.stringify(segments), node };
}

/**
 * A `$ref` that leads back to where it stands (a tree, a linked list: zod's `z.lazy`), which Anthropic's
 * grammar cannot express: its structured-outputs limits rule out recursive schemas. Returns that
 * reference, or undefined for a schema without one.
 */
function recursiveRef(root: JsonSchema): string | undefined {
  const refsIn = (node: unknown, out: string[] = []): string[] => {
    if (Array.isArray(node)) for (const item of node) refsIn(item, out);
    else if (isRecord(node))
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref" && typeof v === "string") out.push(v);
        else if (k !== "$defs" && k !== "definitions") refsIn(v, out);
      }
    return out;
  };
  // Depth-first over the references from the root: one met again on the current path is a cycle. A
  // definition once searched in full is not searched again: without that, definitions that each name
  // the next one twice took 2^depth steps (a 3 KB schema, seconds of CPU).
  const onPath = new Set<string>();
  const cleared = new Set<string>();
  const visit = (node: unknown): string | undefined => {
    for (const ref of refsIn(node)) {
      if (ref === "#") return ref;
      const t = target(ref, root);
      if (!t) continue;
      if (onPath.has(t.name)) return ref;
      if (cleared.has(t.name)) continue;
      onPath.add(t.name);
      const found = visit(t.node);
      onPath.delete(t.name);
      if (found) return found;
      cleared.add(t.name);
    }
    return undefined;
  };
  return visit(root);
}
