import { z } from "zod";

/**
 * The OpenAI Chat Completions request as the gateway accepts it. Unknown top-level fields are refused
 * (strict) rather than dropped: a caller must never believe a parameter was honoured when it was not.
 */

/**
 * A model name or alias. Capped: the name is echoed into the request log and into a 404's message, so
 * a megabyte of "model" must not become a megabyte of log line (provider model ids are far shorter).
 */
export const modelName = z.string().min(1).max(256);

/**
 * OpenAI's explicit prompt-cache breakpoint: the part ends a reusable prefix. OpenAI takes it as it is;
 * Anthropic as `cache_control` on that block; Gemini, which caches implicitly, ignores it.
 */
const promptCacheBreakpoint = z
  .object({ mode: z.literal("explicit") })
  .strict()
  .optional();

export const textPart = z
  .object({ type: z.literal("text"), text: z.string(), prompt_cache_breakpoint: promptCacheBreakpoint })
  .strict();
/**
 * An image is an http(s) URL with a host or a data URL with data in it: OpenAI refuses anything else
 * with 400, and Anthropic and Gemini would be sent an image they cannot read (an empty base64 source, a
 * URL without a host).
 */
const IMAGE_URL =
  /^(?:https?:\/\/(?:[^/?#\s@]*@)?(?:\[[\d.:a-f]+\]|[^/?#\s@:[\]]+)(?::\d*)?(?:[/?#]|$)|data:[^,]*,\s*\S)/i;
const imageUrl = z
  .string()
  .regex(
    IMAGE_URL,
    "must be an http(s) URL with a host, or a data URL (data:image/png;base64,…) with data in it",
  );

const imagePart = z
  .object({
    type: z.literal("image_url"),
    image_url: z.object({ url: imageUrl, detail: z.enum(["auto", "low", "high"]).optional() }).strict(),
    prompt_cache_breakpoint: promptCacheBreakpoint,
  })
  .strict();
/**
 * A file (a PDF) given inline as a data URL (`data:application/pdf;base64,…`), or by the id of a file
 * uploaded to OpenAI, which only OpenAI can read.
 */
const filePart = z
  .object({
    type: z.literal("file"),
    file: z
      .object({
        file_data: z.string().min(1).optional(),
        file_id: z.string().min(1).optional(),
        filename: z.string().max(1024).optional(),
      })
      .strict()
      .refine(
        (f) => (f.file_data === undefined) !== (f.file_id === undefined),
        "needs file_data or file_id, not both",
      ),
    prompt_cache_breakpoint: promptCacheBreakpoint,
  })
  .strict();
/** Audio given inline (OpenAI's `input_audio`): base64 WAV or MP3. */
const audioPart = z
  .object({
    type: z.literal("input_audio"),
    input_audio: z.object({ data: z.string().min(1), format: z.enum(["wav", "mp3"]) }).strict(),
    prompt_cache_breakpoint: promptCacheBreakpoint,
  })
  .strict();
export const contentPart = z.discriminatedUnion("type", [textPart, imagePart, filePart, audioPart]);

const textContent = z.union([z.string(), z.array(textPart).min(1)]);
const userContent = z.union([z.string(), z.array(contentPart).min(1)]);

/**
 * Provider state echoed back with a call (chat-response.ts `ToolCallExtraContent`): clients append the
 * assistant message to the history as they got it. Gemini and Anthropic read it; other vendors' keys,
 * which carry nothing the gateway could honour, are dropped rather than refused.
 */
const thinkingBlock = z.discriminatedUnion("type", [
  z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string().min(1) }).strict(),
  z.object({ type: z.literal("redacted_thinking"), data: z.string().min(1) }).strict(),
]);
const extraContent = z.object({
  google: z.object({ thought_signature: z.string().min(1).optional() }).optional(),
  anthropic: z.object({ thinking_blocks: z.array(thinkingBlock).max(64) }).optional(),
});

export const toolCall = z
  .object({
    id: z.string().min(1),
    type: z.literal("function"),
    function: z
      .object({
        name: z.string().min(1),
        arguments: z.string(),
        // The Node SDK's stream and parse helpers add the arguments parsed (strict tools), and a client
        // appends the message as it got it: accepted and never forwarded, like the message's `parsed`.
        parsed_arguments: z.unknown().optional(),
      })
      .strict(),
    extra_content: extraContent.optional(),
  })
  .strict();

const name = z.string().min(1).max(64).optional();

/** An assistant turn, as the gateway reads it (chat-request-input.ts takes refusal parts too). */
export const assistantMessage = z
  .object({
    role: z.literal("assistant"),
    content: textContent.nullable().optional(),
    name,
    // Empty from some SDK helpers (openai-python's beta parse; older openai-node stream helpers), echoed
    // back with the message: taken, and sent to no provider (OpenAI itself refuses an empty list).
    // null from clients that dump the SDK's response model back (Python's `model_dump()`): no calls.
    tool_calls: z.array(toolCall).nullish(),
    refusal: z.string().nullable().optional(),
    // Response fields a client echoes back with the assistant message it got: OpenAI's `annotations`
    // (and null `audio`/`function_call`), the SDK stream helper's `parsed` (and its tool calls'
    // `parsed_arguments`, above). Accepted and never
    // forwarded (provider mappers drop them): they carry nothing to honour.
    annotations: z.array(z.unknown()).optional(),
    audio: z.null().optional(),
    // Null when echoed back; a call in a history written for OpenAI's deprecated function calling
    // (legacy-functions.ts turns it into a tool call).
    function_call: z
      .object({ name: z.string().min(1), arguments: z.string() })
      .strict()
      .nullable()
      .optional(),
    parsed: z.unknown().optional(),
  })
  .strict();

export const chatMessage = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: textContent, name }).strict(),
  z.object({ role: z.literal("developer"), content: textContent, name }).strict(),
  z.object({ role: z.literal("user"), content: userContent, name }).strict(),
  assistantMessage,
  z
    .object({
      role: z.literal("tool"),
      content: textContent,
      tool_call_id: z.string().min(1),
      // The tool's name, which LangChain's ChatOpenAI puts on every tool result and OpenAI takes.
      name: z.string().min(1).max(64).optional(),
    })
    .strict(),
]);

const jsonObject = z.record(z.string(), z.unknown());

export const toolDefinition = z
  .object({
    type: z.literal("function"),
    function: z
      .object({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 characters of a-z, A-Z, 0-9, _ or -"),
        description: z.string().optional(),
        parameters: jsonObject.optional(),
        strict: z.boolean().nullable().optional(),
      })
      .strict(),
  })
  .strict();

const namedFunction = z
  .object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }).strict() })
  .strict();

export const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  namedFunction,
  // OpenAI's allowed tools: the model may (auto) or must (required) call one of these, while `tools`
  // stays whole (and cacheable).
  z
    .object({
      type: z.literal("allowed_tools"),
      allowed_tools: z
        .object({ mode: z.enum(["auto", "required"]), tools: z.array(namedFunction).min(1).max(128) })
        .strict(),
    })
    .strict(),
]);

export const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }).strict(),
  z.object({ type: z.literal("json_object") }).strict(),
  z
    .object({
      type: z.literal("json_schema"),
      json_schema: z
        .object({
          name: z.string().min(1).max(64),
          description: z.string().optional(),
          schema: jsonObject.optional(),
          strict: z.boolean().nullable().optional(),
        })
        .strict(),
    })
    .strict(),
]);

export const chatRequest = z
  .object({
    model: modelName,
    messages: z.array(chatMessage).min(1),
    stream: z.boolean().nullable().optional(),
    stream_options: z
      .object({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })
      .strict()
      .nullable()
      .optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    n: z.number().int().min(1).max(128).nullable().optional(),
    stop: z
      .union([z.string(), z.array(z.string()).max(4)])
      .nullable()
      .optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    presence_penalty: z.number().min(-2).max(2).nullable().optional(),
    frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
    logit_bias: z.record(z.string(), z.number()).nullable().optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    user: z.string().max(256).optional(),
    // OpenAI's successors to `user`: an end-user id for abuse detection, and a prompt-cache routing key.
    // Null as the SDK types them (`key ?? null`): the same as left out.
    safety_identifier: z.string().max(256).nullable().optional(),
    prompt_cache_key: z.string().max(1024).nullable().optional(),
    // OpenAI's cache controls: how long it may keep a cached prefix, and whether it adds its own
    // breakpoint and the least lifetime of every breakpoint (prompt_cache_breakpoint above).
    prompt_cache_retention: z.enum(["in_memory", "24h"]).nullable().optional(),
    prompt_cache_options: z
      .object({ mode: z.enum(["implicit", "explicit"]).optional(), ttl: z.literal("30m").optional() })
      .strict()
      .optional(),
    // OpenAI refuses an empty list ("expected an array with minimum length 1"), as does Anthropic.
    tools: z.array(toolDefinition).min(1).max(128).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: responseFormat.optional(),
    // The OpenAI SDK's ReasoningEffort; which values a model takes is the model's business.
    reasoning_effort: z
      .enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"])
      .nullable()
      .optional(),
    verbosity: z.enum(["low", "medium", "high"]).nullable().optional(),
    // OpenAI's Predicted Outputs: text the answer is expected to repeat, which speeds it up at OpenAI.
    // It changes nothing the model writes, so providers without it ignore it. OpenAI bills the rejected
    // part of the prediction as output (estimate.ts bounds it).
    prediction: z
      .object({
        type: z.literal("content"),
        content: z.union([
          z.string(),
          z.array(z.object({ type: z.literal("text"), text: z.string() }).strict()),
        ]),
      })
      .strict()
      .nullable()
      .optional(),
    // Output modalities. The gateway relays text only, so `["text"]` (OpenAI's default, which some
    // clients send explicitly) is the one value taken; audio output is refused.
    modalities: z
      .array(z.literal("text", { error: "only text output is supported" }))
      .min(1)
      .nullable()
      .optional(),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
    // OpenAI's search models' settings (`search_context_size`, `user_location`), passed to OpenAI as they
    // are; the other providers search nothing and refuse it.
    web_search_options: z.record(z.string(), z.unknown()).nullable().optional(),
    // OpenAI's moderated completions (`{ model, policy }`), passed to OpenAI as they are; its results
    // come back in the answer's `moderation`. The other providers moderate nothing and refuse it.
    moderation: z.record(z.string(), z.unknown()).nullable().optional(),
    // Audio output is refused; null, as the SDK types it, asks for none.
    audio: z.null({ error: "only text output is supported" }).optional(),
    store: z.boolean().nullable().optional(),
    service_tier: z.string().nullable().optional(),
  })
  .strict();

export type ChatRequest = z.infer<typeof chatRequest>;
export type ChatMessage = z.infer<typeof chatMessage>;
export type ContentPart = z.infer<typeof contentPart>;
export type ToolCall = z.infer<typeof toolCall>;
export type ToolDefinition = z.infer<typeof toolDefinition>;
export type ToolChoice = z.infer<typeof toolChoice>;
export type ResponseFormat = z.infer<typeof responseFormat>;
