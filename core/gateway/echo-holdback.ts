import type { ChatCompletionChunk } from "../api/chat-response.ts";

/**
 * Text of each choice (by index) that may be the start of a credential, held back from the caller until
 * the next delta shows whether it is one.
 */
export type HeldText = ReadonlyMap<number, string>;

export const NOTHING_HELD: HeldText = new Map();

const MASK = "[REDACTED]";

/**
 * A chunk with the gateway's provider credentials masked in its content, across deltas: a provider
 * that answers with the key it was sent streams it a few characters at a time, which no one event holds
 * whole. Each choice's text is read joined to what was held from it; a credential in it is masked, and a
 * tail that could begin one is held back (at most a credential's length less one character) until more
 * text, or the choice's finish reason, settles it. Pure: returns the chunk (itself when unchanged) and
 * what is held now.
 */
export function maskEchoes(
  chunk: ChatCompletionChunk,
  secrets: readonly string[],
  held: HeldText,
): { chunk: ChatCompletionChunk; held: HeldText } {
  if (secrets.length === 0) return { chunk, held };
  let next: Map<number, string> | undefined;
  let choices: ChatCompletionChunk["choices"] | undefined;
  chunk.choices.forEach((choice, i) => {
    const before = held.get(choice.index) ?? "";
    const content = typeof choice.delta.content === "string" ? choice.delta.content : "";
    if (before === "" && content === "") return;
    let text = before + content;
    for (const secret of secrets) if (text.includes(secret)) text = text.replaceAll(secret, MASK);
    // A finished choice gets no more text: nothing of it is held.
    const keep = choice.finish_reason ? 0 : credentialStart(text, secrets);
    const out = text.slice(0, text.length - keep);
    const rest = text.slice(text.length - keep);
    if (rest !== before) {
      next ??= new Map(held);
      if (rest === "") next.delete(choice.index);
      else next.set(choice.index, rest);
    }
    if (out !== content && !(out === "" && typeof choice.delta.content !== "string")) {
      choices ??= [...chunk.choices];
      choices[i] = { ...choice, delta: { ...choice.delta, content: out } };
    }
  });
  return { chunk: choices ? { ...chunk, choices } : chunk, held: next ?? held };
}

/** What is still held when a stream ends, as a chunk like `last` (undefined when nothing is). */
export function flushEchoes(last: ChatCompletionChunk, held: HeldText): ChatCompletionChunk | undefined {
  if (held.size === 0) return undefined;
  const choices = [...held].map(([index, content]) => ({
    index,
    delta: { content },
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
