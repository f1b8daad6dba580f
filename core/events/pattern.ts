import type { EventPattern, PatternValue } from "./port.ts";

/**
 * EventBridge event-pattern matching for the local bus, following the user guide
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and its
 * content-filtering, arrays and null-values pages): every field named in the pattern must match (AND);
 * the values listed for one field are alternatives (OR); when the event's value is an array, the field
 * matches if any element does. Only the operators below are supported; validatePattern rejects the rest
 * (suffix, cidr, wildcard, equals-ignore-case, $or) so a rule can never silently match nothing.
 *
 * Known difference: EventBridge compares numbers by their JSON text (300 and 300.0 differ); after
 * JSON.parse they are the same JavaScript number here.
 */

const NUMERIC_OPS = new Set(["=", "<", "<=", ">", ">="]);
/** Numeric matching is limited to values between -5.0e9 and +5.0e9 inclusive (content-filtering page). */
const NUMERIC_LIMIT = 5e9;

export class InvalidPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPatternError";
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(path: string, why: string): never {
  throw new InvalidPatternError(`Event pattern is not valid at "${path}": ${why}`);
}

function validateNumeric(ops: unknown, path: string): void {
  if (!Array.isArray(ops) || (ops.length !== 2 && ops.length !== 4)) {
    fail(path, "numeric takes one or two [operator, number] comparisons");
  }
  for (let i = 0; i < ops.length; i += 2) {
    const op = ops[i];
    const n = ops[i + 1];
    if (typeof op !== "string" || !NUMERIC_OPS.has(op))
      fail(path, `unsupported numeric operator ${String(op)}`);
    if (typeof n !== "number" || !Number.isFinite(n) || Math.abs(n) > NUMERIC_LIMIT) {
      fail(path, "numeric operands must be numbers within ±5.0e9");
    }
  }
  // EventBridge only accepts a range as a lower bound followed by an upper bound.
  if (ops.length === 4 && !(String(ops[0]).startsWith(">") && String(ops[2]).startsWith("<"))) {
    fail(path, "a numeric range is a > or >= bound followed by a < or <= bound");
  }
}

function validateAnythingBut(v: unknown, path: string): void {
  if (typeof v === "string" || typeof v === "number") return;
  if (isObject(v)) {
    if (Object.keys(v).length === 1 && typeof v.prefix === "string") return;
    fail(path, `unsupported anything-but operator ${Object.keys(v).join(",")}`);
  }
  // A list holds only strings or only numbers (content-filtering page).
  if (Array.isArray(v) && v.length > 0) {
    if (v.every((x) => typeof x === "string") || v.every((x) => typeof x === "number")) return;
  }
  fail(path, "anything-but takes a string, a number, a list of only strings or only numbers, or {prefix}");
}

function validateValue(v: unknown, path: string): void {
  if (v === null || ["string", "number", "boolean"].includes(typeof v)) return;
  if (!isObject(v)) fail(path, "a pattern value is a JSON scalar or an operator object");
  const keys = Object.keys(v);
  if (keys.length !== 1) fail(path, "an operator object has exactly one key");
  const [op] = keys as [string];
  const arg = v[op];
  if (op === "prefix" && typeof arg === "string") return;
  if (op === "exists" && typeof arg === "boolean") return;
  if (op === "anything-but") validateAnythingBut(arg, path);
  else if (op === "numeric") validateNumeric(arg, path);
  else fail(path, `unsupported operator "${op}"`);
}

/** Throws InvalidPatternError unless `pattern` only uses what matches() implements. */
export function validatePattern(pattern: unknown, path = "$"): asserts pattern is EventPattern {
  if (!isObject(pattern) || Object.keys(pattern).length === 0) fail(path, "a pattern is a non-empty object");
  for (const [field, rule] of Object.entries(pattern)) {
    const at = `${path}.${field}`;
    if (Array.isArray(rule)) {
      if (rule.length === 0) fail(at, "a field's values are a non-empty array");
      for (const v of rule) validateValue(v, at);
    } else {
      validatePattern(rule, at);
    }
  }
}

/**
 * The leaf values at a field: an array contributes each element; an object is not a leaf (exists
 * matching "only works on leaf nodes", so `{ "c-count": { "c1": 100 } }` does not satisfy exists:true).
 */
function leaves(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(leaves);
  return isObject(value) || value === undefined ? [] : [value];
}

function numericHolds(ops: Array<string | number>, n: number): boolean {
  for (let i = 0; i < ops.length; i += 2) {
    const bound = ops[i + 1] as number;
    const ok =
      ops[i] === "="
        ? n === bound
        : ops[i] === "<"
          ? n < bound
          : ops[i] === "<="
            ? n <= bound
            : ops[i] === ">"
              ? n > bound
              : n >= bound;
    if (!ok) return false;
  }
  return true;
}

function leafMatches(cond: PatternValue, leaf: unknown): boolean {
  if (!isObject(cond)) return leaf === cond;
  if ("prefix" in cond) return typeof leaf === "string" && leaf.startsWith(cond.prefix);
  if ("numeric" in cond) return typeof leaf === "number" && numericHolds(cond.numeric, leaf);
  if ("anything-but" in cond) {
    const but = cond["anything-but"];
    if (Array.isArray(but)) return !(but as unknown[]).includes(leaf);
    if (isObject(but)) return typeof leaf === "string" && !leaf.startsWith(but.prefix);
    return leaf !== but;
  }
  return false;
}

function fieldMatches(rule: PatternValue[], value: unknown): boolean {
  const values = leaves(value);
  return rule.some((cond) => {
    if (isObject(cond) && "exists" in cond) return cond.exists === values.length > 0;
    // Every other operator needs the field present: a missing field never matches anything-but.
    return values.some((leaf) => leafMatches(cond, leaf));
  });
}

/** Whether `event` (an envelope, or any JSON object) matches `pattern`. */
export function matches(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    const value = Object.hasOwn(event, field) ? event[field] : undefined;
    if (Array.isArray(rule)) return fieldMatches(rule, value);
    if (isObject(value)) return matches(rule, value);
    // An array of objects matches a nested pattern if any element does, in arrays of arrays too
    // (EventBridge's matcher flattens every level). One without objects (empty, or of scalars) holds
    // no field below it, as a scalar does not.
    if (Array.isArray(value)) {
      const objects = value.flat(Infinity).filter(isObject);
      if (objects.length > 0) return objects.some((v) => matches(rule, v));
    }
    // Absent (or a scalar where an object was expected): only exists:false conditions can hold.
    return matches(rule, {});
  });
}
