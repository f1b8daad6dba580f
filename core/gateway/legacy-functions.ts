import type { ChatMessage, ChatRequest, ToolChoice } from "../api/chat-request.ts";
import type { ChatRequestInput } from "../api/chat-request-input.ts";
import type { ChatCompletion, ChatCompletionChunk, ChunkDelta } from "../api/chat-response.ts";
import { badRequest } from "../api/errors.ts";
import type { BaseStreamState, ChatAdapter } from "../providers/types.ts";
import { hasRefusalParts, refusalsAsField } from "./refusal-parts.ts";

/**
 * OpenAI's deprecated function calling, served as the tools it became: `functions` are tools,
 * `function_call` is `tool_choice`, an assistant's `function_call` is a tool call and a `function`
 * message is that call's result. Every provider then sees tools; a caller that asked with `functions`
 * gets its answer back in that form (`message.function_call`, `finish_reason: "function_call"`).
 *
 * Legacy function calling has one call per turn. Of several calls a model makes at once, the caller
 * gets the first: the model sees only that one answered and calls again for the rest.
 */

/** The id a legacy call gets as a tool call: legacy calls have none, and a result finds its call by it. */
const legacyId = (message: number) => `call_fn_${message}`;

function toolChoiceOf(choice: ChatRequestInput["function_call"]): ToolChoice | undefined {
  if (choice === undefined || typeof choice === "string") return choice;
  return { type: "function", function: { name: choice.name } };
}

function messagesOf(messages: ChatRequestInput["messages"]): ChatMessage[] {
  // Calls not yet answered, by function name, oldest first: a `function` message answers the oldest.
  // A queue read from `next` on, appended in place: copying or shifting a list per message would make
  // a long history (tens of thousands of calls fit in a body) quadratic in time.
  const pending = new Map<string, { ids: string[]; next: number }>();
  return messages.map((input, i): ChatMessage => {
    const m = hasRefusalParts(input) ? refusalsAsField(input) : input;
    if (m.role === "function") {
      const queue = pending.get(m.name);
      const id = queue?.ids[queue.next];
      if (queue && id !== undefined) queue.next++;
      if (id === undefined)
        throw badRequest(
          `No earlier assistant message calls the function '${m.name}' that this result answers.`,
          `messages[${i}].name`,
        );
      return { role: "tool", tool_call_id: id, content: m.content ?? "" };
    }
    if (m.role !== "assistant" || !m.function_call) return m as ChatMessage;
    if (m.tool_calls?.length)
      throw badRequest(
        "An assistant message carries either function_call or tool_calls, not both.",
        `messages[${i}].function_call`,
      );
    const { function_call: call, ...rest } = m;
    const id = legacyId(i);
    const queue = pending.get(call.name);
    if (queue) queue.ids.push(id);
    else pending.set(call.name, { ids: [id], next: 0 });
    return { ...rest, tool_calls: [{ id, type: "function", function: call }] };
  });
}

/**
 * The request as tools, with refusal parts as the `refusal` field; unchanged (the same object) when it
 * uses no legacy field and no refusal part.
 */
export function fromLegacyFunctions(input: ChatRequestInput): ChatRequest {
  const { functions, function_call, messages, ...rest } = input;
  const legacyMessages = messages.some(
    (m) => m.role === "function" || (m.role === "assistant" && m.function_call) || hasRefusalParts(m),
  );
  if (functions === undefined && function_call === undefined && !legacyMessages) return input as ChatRequest;
  if (functions !== undefined && rest.tools !== undefined)
    throw badRequest("Send either functions or tools, not both.", "functions");
  if (function_call !== undefined && functions === undefined)
    throw badRequest("function_call needs functions.", "function_call");
  if (function_call !== undefined && rest.tool_choice !== undefined)
    throw badRequest("Send either function_call or tool_choice, not both.", "function_call");
  const req: ChatRequest = { ...rest, messages: messagesOf(messages) };
  if (functions) req.tools = functions.map((f) => ({ type: "function", function: f }));
  const choice = toolChoiceOf(function_call);
  if (typeof function_call === "object" && !functions?.some((f) => f.name === function_call.name))
    throw badRequest("function_call names a function that is not in functions.", "function_call.name");
  if (choice !== undefined) req.tool_choice = choice;
  return req;
}

/** Whether the answer goes back in the legacy form: the caller asked with `functions`. */
export const answersInLegacyForm = (input: ChatRequestInput): boolean => input.functions !== undefined;

export function toLegacyCompletion(c: ChatCompletion): ChatCompletion {
  return {
    ...c,
    choices: c.choices.map((choice) => {
      const { tool_calls, ...message } = choice.message;
      const first = tool_calls?.[0];
      if (!first) return choice;
      return {
        ...choice,
        message: { ...message, function_call: { ...first.function } },
        finish_reason: choice.finish_reason === "tool_calls" ? "function_call" : choice.finish_reason,
      };
    }),
  };
}

function legacyDelta(delta: ChunkDelta): ChunkDelta {
  if (!delta.tool_calls) return delta;
  const { tool_calls, ...rest } = delta;
  const first = tool_calls.find((t) => t.index === 0);
  if (!first) return rest;
  const { name, arguments: args } = first.function;
  return { ...rest, function_call: { ...(name !== undefined ? { name } : {}), arguments: args } };
}

export function toLegacyChunk(c: ChatCompletionChunk): ChatCompletionChunk {
  return {
    ...c,
    choices: c.choices.map((choice) => ({
      ...choice,
      delta: legacyDelta(choice.delta),
      finish_reason: choice.finish_reason === "tool_calls" ? "function_call" : choice.finish_reason,
    })),
  };
}

/** `adapter` answering in the legacy form, non-stream and stream alike. */
/**
 * The chunks in the legacy form, without the ones left saying nothing: a delta of a second call, which
 * the legacy form drops, would otherwise reach the caller as an empty chunk OpenAI never sends.
 */
function legacyChunks(chunks: ChatCompletionChunk[]): ChatCompletionChunk[] {
  return chunks
    .map(toLegacyChunk)
    .filter(
      (c) =>
        c.choices.length === 0 ||
        c.choices.some(
          (ch) => ch.finish_reason !== null || ch.logprobs != null || Object.keys(ch.delta).length > 0,
        ),
    );
}

export function withLegacyAnswers<S extends BaseStreamState>(adapter: ChatAdapter<S>): ChatAdapter<S> {
  return {
    ...adapter,
    fromResponse: (body, meta) => toLegacyCompletion(adapter.fromResponse(body, meta)),
    reduce: (event, state) => {
      const step = adapter.reduce(event, state);
      return { ...step, out: legacyChunks(step.out) };
    },
    ...(adapter.endStream ? { endStream: (state: S) => legacyChunks(adapter.endStream!(state)) } : {}),
  };
}
