import { distinctMasks } from "../pii/mask-names.ts";

/** JSON Schema keywords whose values are prose or sample data, which can name people. */
const SCHEMA_TEXT = new Set(["description", "title", "$comment", "examples", "default", "enum", "const"]);
/** Keywords whose value maps names (of properties or definitions) to schemas. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
/** Keywords whose value maps names to lists of names (`dependencies` may map one to a schema instead). */
const SCHEMA_NAME_LISTS = new Set(["dependentRequired", "dependencies"]);
/** Keywords whose string values are the schema's structure, never anyone's data. */
const SCHEMA_STRUCTURE = new Set(["type", "format", "$schema", "contentEncoding", "contentMediaType"]);
/** Keywords whose values name a place a `$ref` can point at: masked as the `$ref` is, alike. */
const SCHEMA_IDS = new Set(["$id", "$anchor", "$dynamicAnchor", "$dynamicRef"]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A JSON Schema with its texts masked and its structure kept. Prose and sample data (SCHEMA_TEXT) are
 * masked as JSON, any other string that is not structure (a `pattern`, an `x-…` extension) as text.
 * Property and definition names are masked too (an address or a key can be a name), each to one name
 * used wherever the schema names it (`required`, `dependentRequired`, `$ref` pointers), and names that
 * mask alike are told apart (`[EMAIL]`, `[EMAIL] 2`), so the schema still says what it said. Keys the
 * schema vocabulary does not have are masked as names. An enum whose values masked alike keeps one of each.
 */
export function maskSchema<T>(schema: T, mask: (text: string) => string, maskObject: <V>(value: V) => V): T {
  const names = schemaNames(schema, mask);
  const rename = (name: unknown) => (typeof name === "string" ? (names.get(name) ?? mask(name)) : name);
  // A regular expression (a `pattern`, a `patternProperties` key) masked stays one: its masks are literals.
  const maskPattern = (p: string) => {
    const masked = mask(p);
    return masked === p ? p : masked.replace(/\\?\[([A-Z_:]+)\]/g, "\\[$1\\]");
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return typeof node === "string" ? mask(node) : node;
    const out: Record<string, unknown> = Object.create(null);
    for (const [key, value] of Object.entries(node)) {
      if (SCHEMA_TEXT.has(key)) {
        const masked = maskObject(value);
        out[key] = key === "enum" && Array.isArray(masked) ? uniqueJson(masked) : masked;
      } else if (key === "patternProperties" && isObject(value))
        out[key] = Object.fromEntries(Object.entries(value).map(([p, sub]) => [maskPattern(p), walk(sub)]));
      else if (SCHEMA_MAPS.has(key) && isObject(value))
        out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [rename(name), walk(sub)]));
      else if (SCHEMA_NAME_LISTS.has(key) && isObject(value))
        out[key] = Object.fromEntries(
          Object.entries(value).map(([name, v]) => [
            rename(name),
            Array.isArray(v) ? v.map(rename) : walk(v),
          ]),
        );
      else if (key === "required" && Array.isArray(value)) out[key] = value.map(rename);
      else if (key === "$ref" && typeof value === "string") out[key] = refRenamed(value, rename);
      else if (SCHEMA_IDS.has(key) && typeof value === "string") out[key] = rename(value);
      else if (key === "pattern" && typeof value === "string") out[key] = maskPattern(value);
      else if (SCHEMA_STRUCTURE.has(key) && typeof value === "string") out[key] = value;
      else out[rename(key) as string] = walk(value);
    }
    return { ...out };
  };
  return walk(schema) as T;
}

/**
 * Each property and definition name of a schema that masks to something else, and the name it becomes:
 * its mask, numbered where another name (kept or masked) already is that.
 */
function schemaNames(schema: unknown, mask: (text: string) => string): Map<string, string> {
  const found: string[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) collect(item);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const named = (SCHEMA_MAPS.has(key) && key !== "patternProperties") || SCHEMA_NAME_LISTS.has(key);
      if (named && isObject(value)) found.push(...Object.keys(value));
      collect(value);
    }
  };
  collect(schema);
  return distinctMasks(found, mask);
}

/** A `$ref` pointer (RFC 6901, in a URI fragment) with each segment renamed as the names it points at are. */
function refRenamed(ref: string, rename: (name: unknown) => unknown): string {
  const hash = ref.indexOf("#");
  if (hash < 0) return rename(ref) as string;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s).replaceAll("~1", "/").replaceAll("~0", "~");
    } catch {
      return s;
    }
  };
  // A renamed segment is written again: `%` and a mask's space (`[EMAIL] 2`) percent-encoded (a URI has
  // neither bare). A segment whose name is kept stays as it was written.
  const encode = (s: string) =>
    s.replaceAll("%", "%25").replaceAll("~", "~0").replaceAll("/", "~1").replaceAll(" ", "%20");
  const segments = ref
    .slice(hash + 1)
    .split("/")
    .map((s) => {
      const name = decode(s);
      const renamed = rename(name) as string;
      return renamed === name ? s : encode(renamed);
    });
  return `${rename(ref.slice(0, hash))}#${segments.join("/")}`;
}

const uniqueJson = (values: unknown[]): unknown[] => {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};
