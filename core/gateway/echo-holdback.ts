import type { ChatCompletionChunk, ChunkDelta } from "../api/chat-response.ts";
import { withoutSecrets } from "../providers/credential-scrub.ts";

/**
 * Text of each choice's streamed fields that may be the start of a credential, held back from the
 * caller until the next delta shows whether it is one. Keyed by choice index and field (`0 content`,
 * `0 refusal`, `0 function`, `0 tool 2` for the arguments of tool call 2).
 */
export type HeldText = ReadonlyMap<string, string>;

export const NOTHING_HELD: HeldText = new Map();

type Choice = ChatCompletionChunk["choices"][number];
type ToolCallDelta = NonNullable<ChunkDelta["tool_calls"]>[number];

/**
 * A chunk with the gateway's provider credentials masked in the text it streams (content, refusal, and
 * tool and function call arguments), across deltas: a provider that answers with the key it was sent
 * streams it a few characters at a time, which no one event holds whole. Each field's text is read
 * joined to what was held from it; a credential in it is masked, and a tail that could begin one is
 * held back (at most a credential's length less one character) until more text, or the choice's finish
 * reason, settles it. Pure: returns the chunk (itself when unchanged) and what is held now.
 */
export function maskEchoes(
  chunk: ChatCompletionChunk,
  secrets: readonly string[],
  held: HeldText,
): { chunk: ChatCompletionChunk; held: HeldText } {
  if (secrets.length === 0) return { chunk, held };
  let next: Map<string, string> | undefined;
  /** The field's text to send now; what may begin a credential is held (nothing once finished). */
  const pass = (key: string, piece: string, finished: boolean): string => {
    const before = held.get(key) ?? "";
    if (before === "" && piece === "") return piece;
    const text = withoutSecrets(before + piece, secrets);
    const keep = finished ? 0 : credentialStart(text, secrets);
    const rest = text.slice(text.length - keep);
    if (rest !== before) {
      next ??= new Map(held);
      if (rest === "") next.delete(key);
      else next.set(key, rest);
    }
    return text.slice(0, text.length - keep);
  };
  let choices: Choice[] | undefined;
  chunk.choices.forEach((choice, i) => {
    const delta = maskDelta(choice, held, pass);
    if (delta === choice.delta) return;
    choices ??= [...chunk.choices];
    // The tokens' logprobs would spell what was held or masked: a changed delta goes without them.
    choices[i] = { ...choice, delta, logprobs: null };
  });
  return { chunk: choices ? { ...chunk, choices } : chunk, held: next ?? held };
}

/** A choice's delta with each streamed field passed through `pass`; the delta itself when unchanged. */
function maskDelta(
  choice: Choice,
  held: HeldText,
  pass: (key: string, piece: string, finished: boolean) => string,
): ChunkDelta {
  const { delta } = choice;
  const finished = choice.finish_reason !== null && choice.finish_reason !== undefined;
  const at = `${choice.index} `;
  const out: ChunkDelta = { ...delta };
  let changed = false;
  for (const field of ["content", "refusal"] as const) {
    const piece = delta[field];
    // A held field the delta does not carry is sent only when the choice finishes.
    if (typeof piece !== "string" && !(finished && held.has(at + field))) continue;
    const text = pass(at + field, typeof piece === "string" ? piece : "", finished);
    if (text !== piece && !(text === "" && typeof piece !== "string")) {
      out[field] = text;
      changed = true;
    }
  }
  const fn = delta.function_call;
  if (typeof fn?.arguments === "string" || (finished && held.has(`${at}function`))) {
    const text = pass(`${at}function`, fn?.arguments ?? "", finished);
    if (text !== (fn?.arguments ?? "")) {
      out.function_call = { ...fn, arguments: text };
      changed = true;
    }
  }
  const calls: ToolCallDelta[] = (delta.tool_calls ?? []).map((call) => {
    const piece = call.function?.arguments;
    if (typeof piece !== "string") return call;
    const text = pass(`${at}tool ${call.index}`, piece, finished);
    return text === piece ? call : { ...call, function: { ...call.function, arguments: text } };
  });
  // Held arguments of calls this delta does not carry go out with the finish.
  if (finished)
    for (const key of held.keys())
      if (key.startsWith(`${at}tool `) && !calls.some((c) => `${at}tool ${c.index}` === key))
        calls.push({ index: Number(key.slice(at.length + 5)), function: { arguments: pass(key, "", true) } });
  if (calls.some((c, i) => c !== delta.tool_calls?.[i]) || calls.length !== (delta.tool_calls?.length ?? 0)) {
    out.tool_calls = calls;
    changed = true;
  }
  return changed ? out : delta;
}

/** What is still held when a stream ends, as a chunk like `last` (undefined when nothing is). */
export function flushEchoes(last: ChatCompletionChunk, held: HeldText): ChatCompletionChunk | undefined {
  if (held.size === 0) return undefined;
  const deltas = new Map<number, ChunkDelta>();
  for (const [key, text] of held) {
    const [index, field, tool] = key.split(" ");
    const delta = deltas.get(Number(index)) ?? {};
    if (field === "content" || field === "refusal") delta[field] = text;
    else if (field === "function") delta.function_call = { arguments: text };
    else
      delta.tool_calls = [
        ...(delta.tool_calls ?? []),
        { index: Number(tool), function: { arguments: text } },
      ];
    deltas.set(Number(index), delta);
  }
  const choices = [...deltas].map(([index, delta]) => ({
    index,
    delta,
    finish_reason: null,
    logprobs: null,
  }));
  return { id: last.id, object: last.object, created: last.created, model: last.model, choices };
}

/** The length of the longest tail of `text` that begins a secret without being all of it. */
function credentialStart(text: string, secrets: readonly string[]): number {
  let longest = 0;
  for (const secret of secrets) {
    const first = secret[0]!;
    // Earliest start first: the first that fits is the longest tail.
    for (let p = text.indexOf(first, Math.max(0, text.length - secret.length + 1)); p >= 0; ) {
      if (secret.startsWith(text.slice(p))) {
        longest = Math.max(longest, text.length - p);
        break;
      }
      p = text.indexOf(first, p + 1);
    }
  }
  return longest;
}
