/** Deterministic helpers shared by the provider simulators. */
import { createHash } from "node:crypto";
import type { Script, ScriptToolCall, ScriptUsage } from "./types.ts";

export type Finish = NonNullable<Script["finish"]>;

export interface Reply {
  text: string;
  toolCalls: ScriptToolCall[];
  reasoning: string;
  finish: Finish;
  usage: Required<ScriptUsage>;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function hex(seed: string, len: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, len);
}

/** Number of characters (code points). */
export function charCount(s: string): number {
  return [...s].length;
}

/** Split into pieces of at most n characters (code points), never empty unless s is empty. */
export function splitChars(s: string, n: number): string[] {
  const cps = [...s];
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += n) out.push(cps.slice(i, i + n).join(""));
  return out;
}

/**
 * Build the reply for a generation request. Default: `Echo: <last user text>`; usage
 * input = 7 + 3 * messages + (body bytes % 13), output = 5 + (reply chars % 11) (+ reasoning), cached = 2.
 */
export function buildReply(
  script: Script | undefined,
  lastUserText: string,
  messageCount: number,
  bodyBytes: number,
): Reply {
  const toolCalls = script?.toolCalls ?? [];
  const text = script?.text ?? (toolCalls.length > 0 ? "" : `Echo: ${lastUserText}`);
  const reasoning = script?.reasoning ?? "";
  const finish: Finish = script?.finish ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
  const reasoningTokens = reasoning.length > 0 ? 3 + (charCount(reasoning) % 7) : 0;
  const usage: Required<ScriptUsage> = script?.usage
    ? {
        input: script.usage.input,
        output: script.usage.output,
        cached: script.usage.cached ?? 0,
        reasoning: script.usage.reasoning ?? 0,
        cacheWrite: script.usage.cacheWrite ?? 0,
        cacheWrite1h: script.usage.cacheWrite1h ?? 0,
        audio: script.usage.audio ?? 0,
      }
    : {
        input: 7 + 3 * messageCount + (bodyBytes % 13),
        output: 5 + (charCount(text) % 11) + reasoningTokens,
        cached: 2,
        reasoning: reasoningTokens,
        cacheWrite: 0,
        cacheWrite1h: 0,
        audio: 0,
      };
  return { text, toolCalls, reasoning, finish, usage };
}

/** Deterministic embedding: `dims` floats in [-1, 1) from SHA-256 of the input (exact in float32). */
export function embedVector(input: string, dims = 8): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dims; block++) {
    const digest = createHash("sha256").update(`${block}:${input}`).digest();
    for (const b of digest) {
      if (out.length >= dims) break;
      out.push((b - 128) / 128);
    }
  }
  return out;
}

/** Little-endian float32 base64, as OpenAI returns for encoding_format "base64". */
export function vectorBase64(v: number[]): string {
  return Buffer.from(new Float32Array(v).buffer).toString("base64");
}

/** Join the text of a string or an array of parts (`{ text }` / `{ type: "text", text }`) with "". */
export function partsText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(isRecord)
    .flatMap((p) =>
      (p.type === undefined || p.type === "text") && typeof p.text === "string" && p.thought !== true
        ? [p.text]
        : [],
    )
    .join("");
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
