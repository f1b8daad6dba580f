import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChoiceLogprobs,
  ChunkDelta,
} from "../api/chat-response.ts";
import { mayHoldSecrets, valueWithoutSecrets, withoutSecrets } from "../providers/credential-scrub.ts";

/**
 * What is held back from the caller until the next delta shows whether it begins a credential: text of
 * each choice's streamed fields, keyed by choice index and field (`0 content`, `0 refusal`, `0 function`,
 * `0 tool 2` for the arguments of tool call 2), and the log probabilities of a choice's held text.
 */
export interface HeldText {
  readonly text: ReadonlyMap<string, string>;
  readonly logprobs: ReadonlyMap<number, ChoiceLogprobs>;
  /** The last character each field sent: whether a tail at the start of the next delta starts a word. */
  readonly after: ReadonlyMap<string, string>;
}

export const NOTHING_HELD: HeldText = { text: new Map(), logprobs: new Map(), after: new Map() };

type Choice = ChatCompletionChunk["choices"][number];
type ToolCallDelta = NonNullable<ChunkDelta["tool_calls"]>[number];
type Pass = (key: string, piece: string, finished: boolean) => string;

/**
 * A chunk with the gateway's provider credentials masked in the text it streams (content, refusal, and
 * tool and function call arguments), across deltas: a provider that answers with the key it was sent
 * streams it a few characters at a time, which no one event holds whole. Each field's text is read
 * joined to what was held from it; a credential in it is masked, and a tail that could begin one (at a
 * word's start, at most a credential's length less one character) is held back until more text, another
 * field, or the choice's finish reason settles it. The log probabilities of held text wait with it and
 * go out with it; those of a delta in which a credential was masked are dropped (their tokens would
 * spell it). Pure: returns the chunk (itself when unchanged) and what is held now.
 */
export function maskEchoes(
  chunk: ChatCompletionChunk,
  secrets: readonly string[],
  start: HeldText,
): { chunks: ChatCompletionChunk[]; held: HeldText } {
  if (secrets.length === 0) return { chunks: [chunk], held: start };
  // Text held for a field the chunk turns away from (tool calls after text) goes out first, alone.
  const { early, held } = turnedAway(chunk, start);
  let text: Map<string, string> | undefined;
  let logprobs: Map<number, ChoiceLogprobs> | undefined;
  let after: Map<string, string> | undefined;
  let masked = false;
  const pass: Pass = (key, piece, finished) => {
    const before = held.text.get(key) ?? "";
    if (before === "" && piece === "") return piece;
    const joined = before + piece;
    const clean = withoutSecrets(joined, secrets);
    if (clean !== joined) masked = true;
    const keep = finished ? 0 : credentialStart(clean, secrets, held.after.get(key));
    const rest = clean.slice(clean.length - keep);
    if (rest !== before) {
      text ??= new Map(held.text);
      if (rest === "") text.delete(key);
      else text.set(key, rest);
    }
    const sent = clean.slice(0, clean.length - keep);
    if (sent !== "" && held.after.get(key) !== sent.at(-1)) {
      after ??= new Map(held.after);
      after.set(key, sent.at(-1)!);
    }
    return sent;
  };
  let choices: Choice[] | undefined;
  chunk.choices.forEach((choice, i) => {
    masked = false;
    const delta = maskDelta(choice, held.text, pass);
    const waiting = held.logprobs.get(choice.index);
    const holding = [...(text ?? held.text).keys()].some((k) => k.startsWith(`${choice.index} `));
    let out = choice.logprobs;
    if (masked || holding || waiting) {
      const all = joinLogprobs(waiting, choice.logprobs);
      out = masked || holding ? null : all;
      logprobs ??= new Map(held.logprobs);
      if (holding && !masked && all) logprobs.set(choice.index, all);
      else logprobs.delete(choice.index);
    }
    if (delta === choice.delta && out === choice.logprobs) return;
    choices ??= [...chunk.choices];
    choices[i] = { ...choice, delta, logprobs: out };
  });
  const next =
    text || logprobs || after
      ? { text: text ?? held.text, logprobs: logprobs ?? held.logprobs, after: after ?? held.after }
      : held;
  const out = choices ? { ...chunk, choices } : chunk;
  return { chunks: early ? [early, out] : [out], held: next };
}

/**
 * The held text of each choice's content or refusal that the chunk's delta does not carry while it
 * carries another field (tool calls after text, a refusal after text), as a chunk of its own to send
 * before it, and what is held without it.
 */
function turnedAway(
  chunk: ChatCompletionChunk,
  held: HeldText,
): { early?: ChatCompletionChunk; held: HeldText } {
  if (held.text.size === 0) return { held };
  const going = new Map<string, string>();
  for (const { index, delta } of chunk.choices) {
    const carries = {
      content: typeof delta.content === "string" && delta.content !== "",
      refusal: typeof delta.refusal === "string" && delta.refusal !== "",
      tools: (delta.tool_calls?.length ?? 0) > 0 || delta.function_call !== undefined,
    };
    for (const field of ["content", "refusal"] as const) {
      const other = field === "content" ? carries.refusal : carries.content;
      const rest = held.text.get(`${index} ${field}`);
      if (rest !== undefined && !carries[field] && (other || carries.tools))
        going.set(`${index} ${field}`, rest);
    }
  }
  if (going.size === 0) return { held };
  const indexes = new Set([...going.keys()].map((k) => Number(k.split(" ")[0])));
  const early = flushEchoes(chunk, {
    text: going,
    logprobs: new Map([...held.logprobs].filter(([i]) => indexes.has(i))),
    after: held.after,
  });
  const text = new Map([...held.text].filter(([k]) => !going.has(k)));
  const logprobs = new Map([...held.logprobs].filter(([i]) => !indexes.has(i)));
  return { early, held: { text, logprobs, after: held.after } };
}

/**
 * A whole answer with the credential it repeats masked, in whatever field, once parsed (escapes
 * decoded); its tokens' logprobs would spell it, so an answer masked goes without them.
 */
export function completionWithoutEchoes(
  answer: ChatCompletion,
  secrets: readonly string[],
  raw: string,
): ChatCompletion {
  // The provider's text first, as cheaply: without a credential in it, nor an escape that could spell
  // one, the answer is not serialized again to be searched (the hot path).
  if (!raw.includes("\\u") && !raw.includes("\\/") && !mayHoldSecrets(raw, secrets)) return answer;
  const masked = valueWithoutSecrets(answer, secrets);
  return masked === answer
    ? answer
    : { ...masked, choices: masked.choices.map((c) => ({ ...c, logprobs: null })) };
}

/** A choice's delta with each streamed field passed through `pass`; the delta itself when unchanged. */
function maskDelta(choice: Choice, held: ReadonlyMap<string, string>, pass: Pass): ChunkDelta {
  const { delta } = choice;
  const finished = choice.finish_reason !== null && choice.finish_reason !== undefined;
  const at = `${choice.index} `;
  const out: ChunkDelta = { ...delta };
  let changed = false;
  for (const field of ["content", "refusal"] as const) {
    const piece = delta[field];
    // Held text of a field this delta does not carry goes out when the choice finishes (a delta that
    // turns to another field has had it sent before it: turnedAway).
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

/** Log probabilities held from earlier deltas, then this delta's. */
function joinLogprobs(a: ChoiceLogprobs | undefined, b: ChoiceLogprobs | null): ChoiceLogprobs | null {
  if (!a) return b;
  if (!b) return a;
  const join = (x: ChoiceLogprobs["content"], y: ChoiceLogprobs["content"]) =>
    x || y ? [...(x ?? []), ...(y ?? [])] : null;
  return { content: join(a.content, b.content), refusal: join(a.refusal, b.refusal) };
}

/** What is still held when a stream ends or breaks, as a chunk like `last` (undefined when nothing is). */
export function flushEchoes(last: ChatCompletionChunk, held: HeldText): ChatCompletionChunk | undefined {
  if (held.text.size === 0) return undefined;
  const deltas = new Map<number, ChunkDelta>();
  for (const [key, text] of held.text) {
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
    logprobs: held.logprobs.get(index) ?? null,
  }));
  return { id: last.id, object: last.object, created: last.created, model: last.model, choices };
}

/** Characters a credential is made of: a tail that begins one right after them is inside a word. */
const WORD = /[A-Za-z0-9_-]/;

/**
 * The length of the longest tail of `text` that begins a secret without being all of it, starting a
 * word (`before`: the character sent just before `text`): a key a provider echoes stands apart (after a
 * space, a quote, a colon), and holding back the `s` of every "This" or "token" + "s" would delay
 * ordinary text for nothing.
 */
function credentialStart(text: string, secrets: readonly string[], before: string | undefined): number {
  let longest = 0;
  for (const secret of secrets) {
    const first = secret[0]!;
    // Earliest start first: the first that fits is the longest tail.
    for (let p = text.indexOf(first, Math.max(0, text.length - secret.length + 1)); p >= 0; ) {
      const prev = p === 0 ? before : text[p - 1];
      if ((prev === undefined || !WORD.test(prev)) && secret.startsWith(text.slice(p))) {
        longest = Math.max(longest, text.length - p);
        break;
      }
      p = text.indexOf(first, p + 1);
    }
  }
  return longest;
}
