import type { Annotation } from "../../api/chat-response.ts";
import type { OpenAIUsage } from "./wire.ts";

/**
 * One OpenAI stream chunk as the wire carries it. Chunks arrive dozens of times per response, so they
 * are checked by a hand-written guard (no allocation) instead of a zod parse; the once-per-stream usage
 * object is still checked by its zod schema.
 */
export interface WireToolCallDelta {
  index: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

export interface WireChoice {
  index: number;
  delta?: {
    role?: string | null;
    content?: string | null;
    refusal?: string | null;
    annotations?: Annotation[] | null;
    tool_calls?: WireToolCallDelta[] | null;
  } | null;
  finish_reason?: string | null;
  /** Checked where it is read (stream.ts), only when a caller asked for log probabilities. */
  logprobs?: unknown;
}

export interface WireChunk {
  id: string;
  created: number;
  model: string;
  choices: WireChoice[];
  usage?: OpenAIUsage | null;
  service_tier?: unknown;
  system_fingerprint?: unknown;
  moderation?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const optString = (v: unknown) => v === undefined || v === null || typeof v === "string";

function isToolCallDelta(v: unknown): v is WireToolCallDelta {
  if (!isObject(v) || typeof v.index !== "number" || !optString(v.id)) return false;
  const f = v.function;
  return f === undefined || f === null || (isObject(f) && optString(f.name) && optString(f.arguments));
}

/** As wire.ts `annotation`: only `type` is checked, so a new annotation type passes. */
const isAnnotation = (v: unknown): v is Annotation => isObject(v) && typeof v.type === "string";

const optList = <T>(v: unknown, isItem: (item: unknown) => item is T) =>
  v === undefined || v === null || (Array.isArray(v) && v.every(isItem));

function isChoice(v: unknown): v is WireChoice {
  if (!isObject(v) || typeof v.index !== "number" || !optString(v.finish_reason)) return false;
  const d = v.delta;
  if (d === undefined || d === null) return true;
  if (!isObject(d) || !optString(d.role) || !optString(d.content) || !optString(d.refusal)) return false;
  return optList(d.annotations, isAnnotation) && optList(d.tool_calls, isToolCallDelta);
}

export function isWireChunk(v: unknown): v is WireChunk {
  return (
    isObject(v) &&
    typeof v.id === "string" &&
    typeof v.created === "number" &&
    typeof v.model === "string" &&
    Array.isArray(v.choices) &&
    v.choices.every(isChoice)
  );
}
