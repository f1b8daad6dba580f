import type { ToolChoice } from "./chat-request.ts";
import { MAX_SCHEMA_PROPERTIES, schemaProperties } from "./schema-size.ts";

/**
 * Rules OpenAI enforces across fields of a chat request, which a schema of each field cannot express.
 * OpenAI refuses such a request with 400; Anthropic and Gemini refuse it too, in their own words, or
 * fail later. Checked before any provider is called, so the caller gets OpenAI's answer from every
 * target, and a doomed request costs no upstream round trip.
 */

/** A rule broken: the field's path (zod's form, `["messages", 2, "tool_call_id"]`) and why. */
export interface RuleBreach {
  path: Array<string | number>;
  message: string;
}

/** What the rules read of a message; every role of the request fits it. */
interface MessageFields {
  role: string;
  tool_calls?: ReadonlyArray<{ id: string }> | null | undefined;
  tool_call_id?: string | undefined;
}

/**
 * The first `tool` message that answers no call of the assistant message it follows: a tool message
 * belongs in the run of tool messages right after an assistant message with `tool_calls`, and its
 * `tool_call_id` is one of those calls' ids. OpenAI: 400 "messages with role 'tool' must be a response
 * to a preceding message with 'tool_calls'" (or "'tool_call_id' … not found in 'tool_calls' of previous
 * message"); Anthropic refuses a `tool_result` whose `tool_use` is not in the turn before it. The id is
 * not echoed back: it is the caller's text, of any length.
 */
export function orphanToolResult(messages: readonly MessageFields[]): RuleBreach | undefined {
  // The ids of the calls a tool message here may answer: none outside a run of results.
  let answerable: ReadonlySet<string> | undefined;
  for (const [i, m] of messages.entries()) {
    if (m.role === "tool") {
      if (m.tool_call_id !== undefined && !answerable?.has(m.tool_call_id))
        return {
          path: ["messages", i, "tool_call_id"],
          message:
            "messages with role 'tool' must be a response to a preceding message with 'tool_calls'; the assistant message this one follows has no tool call with this id",
        };
    } else if (m.role === "assistant" && m.tool_calls?.length) {
      answerable = new Set(m.tool_calls.map((c) => c.id));
    } else {
      answerable = undefined;
    }
  }
  return undefined;
}

/** What the empty-turn rule reads of an assistant message. */
interface AssistantFields {
  role: string;
  content?: unknown;
  tool_calls?: readonly unknown[] | null | undefined;
  function_call?: unknown;
  refusal?: string | null | undefined;
}

/**
 * The first assistant message that says nothing: no content, no tool call (an empty or null
 * `tool_calls` is none: the gateway drops it), no legacy `function_call` and no refusal. OpenAI: 400
 * "Invalid value for 'content': expected a string, got null" (or a missing `content`); Anthropic
 * refuses an empty turn before the last, and Gemini a content without parts. An echoed refusal turn
 * (`content: null` with `refusal`) is a turn: the gateway sends its refusal as text.
 */
export function emptyAssistantMessage(messages: readonly AssistantFields[]): RuleBreach | undefined {
  for (const [i, m] of messages.entries()) {
    if (m.role !== "assistant" || m.content != null) continue;
    if (m.tool_calls?.length || m.function_call != null || typeof m.refusal === "string") continue;
    return {
      path: ["messages", i, "content"],
      message: `${m.content === null ? "expected a string, got null; " : ""}an assistant message needs 'content' or 'tool_calls'`,
    };
  }
  return undefined;
}

/**
 * The first assistant message with `tool_calls` that the messages after it do not answer in full: each
 * call needs a `tool` message with its id before the next message of another role (or the end).
 * OpenAI: 400 "An assistant message with 'tool_calls' must be followed by tool messages responding to
 * each 'tool_call_id'"; Anthropic and Gemini refuse a turn of calls without all their results, in their
 * own words. Ids are not echoed back, as above.
 */
export function unansweredToolCalls(messages: readonly MessageFields[]): RuleBreach | undefined {
  for (const [i, m] of messages.entries()) {
    if (m.role !== "assistant" || !m.tool_calls?.length) continue;
    const open = new Set(m.tool_calls.map((c) => c.id));
    for (let j = i + 1; j < messages.length && messages[j]!.role === "tool"; j++)
      open.delete(messages[j]!.tool_call_id ?? "");
    if (open.size > 0)
      return {
        path: ["messages", i, "tool_calls"],
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'; ${open.size} of its tool calls have none`,
      };
  }
  return undefined;
}

/**
 * A `tool_choice` that makes the model call a tool (`required`, a named function, allowed tools) in a
 * request without `tools`. OpenAI: 400 "'tool_choice' is only allowed when 'tools' are specified".
 * `auto` and `none` ask nothing a model without tools cannot do, and are left to the provider. The
 * deprecated `functions` do not count as tools: `function_call` is the choice that goes with them.
 */
export function toolChoiceWithoutTools(req: {
  tools?: readonly unknown[] | undefined;
  tool_choice?: ToolChoice | undefined;
}): RuleBreach | undefined {
  const choice = req.tool_choice;
  if (choice === undefined || choice === "auto" || choice === "none" || (req.tools?.length ?? 0) > 0)
    return undefined;
  return { path: ["tool_choice"], message: "'tool_choice' is only allowed when 'tools' are specified" };
}

/**
 * `stream_options` on a request that does not stream. OpenAI: 400 "The 'stream_options' parameter is
 * only allowed when 'stream' is enabled"; the other providers would ignore it, and the caller would
 * believe an option took effect.
 */
export function streamOptionsWithoutStream(req: {
  stream?: boolean | null | undefined;
  stream_options?: unknown;
}): RuleBreach | undefined {
  if (req.stream_options == null || req.stream === true) return undefined;
  return {
    path: ["stream_options"],
    message: "The 'stream_options' parameter is only allowed when 'stream' is enabled",
  };
}

/** What the tool-choice rule reads: the tools' names, and the choice. */
interface ToolChoiceFields {
  tools?: ReadonlyArray<{ function: { name: string } }> | undefined;
  tool_choice?: ToolChoice | undefined;
}

/**
 * A `tool_choice` naming a function that `tools` does not hold (one named function, or one of the
 * allowed tools). OpenAI refuses it with 400; Anthropic would be sent a tool it cannot find, and Gemini
 * an allowed name it does not declare. A request without tools is `toolChoiceWithoutTools`'s. The name
 * is not echoed back: it is the caller's text, of any length.
 */
export function toolChoiceOutsideTools(req: ToolChoiceFields): RuleBreach | undefined {
  const choice = req.tool_choice;
  if (typeof choice !== "object" || !req.tools?.length) return undefined;
  const declared = new Set(req.tools.map((t) => t.function.name));
  const message = "'tool_choice' names a function that is not in 'tools'";
  if (choice.type === "function")
    return declared.has(choice.function.name)
      ? undefined
      : { path: ["tool_choice", "function", "name"], message };
  const at = choice.allowed_tools.tools.findIndex((t) => !declared.has(t.function.name));
  return at < 0
    ? undefined
    : { path: ["tool_choice", "allowed_tools", "tools", at, "function", "name"], message };
}

/**
 * `top_logprobs` without `logprobs: true`. OpenAI: 400 (alternatives come only with the chosen tokens'
 * own log probabilities); Gemini would return none, and Anthropic has none to give.
 */
export function topLogprobsWithoutLogprobs(req: {
  logprobs?: boolean | null | undefined;
  top_logprobs?: number | null | undefined;
}): RuleBreach | undefined {
  // 0 asks for no alternatives: a default some clients send, which changes nothing.
  if (!req.top_logprobs || req.logprobs === true) return undefined;
  return { path: ["top_logprobs"], message: "'top_logprobs' needs 'logprobs' set to true" };
}

/** What the schema-size rule reads: every schema the request carries. */
interface SchemaFields {
  tools?: ReadonlyArray<{ function: { parameters?: unknown } }> | undefined;
  functions?: ReadonlyArray<{ parameters?: unknown }> | undefined;
  response_format?: { type: string; json_schema?: { schema?: unknown } } | undefined;
}

/** The first schema that declares more than MAX_SCHEMA_PROPERTIES properties (schema-size.ts). */
export function oversizedSchema(req: SchemaFields): RuleBreach | undefined {
  const schemas: Array<[Array<string | number>, unknown]> = [
    ...(req.tools ?? []).map((t, i): [Array<string | number>, unknown] => [
      ["tools", i, "function", "parameters"],
      t.function.parameters,
    ]),
    ...(req.functions ?? []).map((f, i): [Array<string | number>, unknown] => [
      ["functions", i, "parameters"],
      f.parameters,
    ]),
    [["response_format", "json_schema", "schema"], req.response_format?.json_schema?.schema],
  ];
  for (const [path, schema] of schemas)
    if (schema !== undefined && schemaProperties(schema, MAX_SCHEMA_PROPERTIES) > MAX_SCHEMA_PROPERTIES)
      return { path, message: `a schema may declare at most ${MAX_SCHEMA_PROPERTIES} properties in all` };
  return undefined;
}
