import { z } from "zod";

/**
 * The subset of Anthropic's Messages wire format the gateway reads (checked against
 * @anthropic-ai/sdk resources/messages/messages.d.ts). Unknown fields are kept out, unknown block and
 * delta types are tolerated: Anthropic documents that it adds new variants within an API version.
 */

/** `message_delta` usage is cumulative and may repeat the input counts (or send them as null). */
export const anthropicUsage = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  /** The split of `cache_creation_input_tokens` by TTL, which Anthropic bills at different prices. */
  cache_creation: z
    .object({
      ephemeral_5m_input_tokens: z.number().nullish(),
      ephemeral_1h_input_tokens: z.number().nullish(),
    })
    .nullish(),
  output_tokens_details: z.object({ thinking_tokens: z.number().nullish() }).nullish(),
});

/** A full message must report both counts; only the stream sends them piecemeal. */
const messageUsage = anthropicUsage.extend({ input_tokens: z.number(), output_tokens: z.number() });

const textBlock = z.object({ type: z.literal("text"), text: z.string() });
const toolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
/** Extended thinking; in a stream it starts empty and fills from thinking_delta and signature_delta. */
const thinkingBlock = z.object({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string().nullish(),
});
const redactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: z.string() });
const KNOWN_BLOCKS = new Set(["text", "tool_use", "thinking", "redacted_thinking"]);
/**
 * Any other block (server tools, future types) is tagged "other" so the union narrows on `type`. The
 * refine makes a malformed known block fail validation instead of passing as "other".
 */
const otherBlock = z
  .looseObject({ type: z.string().refine((t) => !KNOWN_BLOCKS.has(t)) })
  .transform((b) => ({ type: "other" as const, kind: b.type }));
export const contentBlock = z.union([
  textBlock,
  toolUseBlock,
  thinkingBlock,
  redactedThinkingBlock,
  otherBlock,
]);

export const anthropicMessage = z.object({
  id: z.string(),
  model: z.string(),
  content: z.array(contentBlock),
  stop_reason: z.string().nullish(),
  usage: messageUsage,
});

export const messageStartEvent = z.object({
  type: z.literal("message_start"),
  message: z.object({ id: z.string(), model: z.string(), usage: anthropicUsage.nullish() }),
});

export const contentBlockStartEvent = z.object({
  type: z.literal("content_block_start"),
  index: z.number(),
  content_block: contentBlock,
});

const textDelta = z.object({ type: z.literal("text_delta"), text: z.string() });
const inputJsonDelta = z.object({ type: z.literal("input_json_delta"), partial_json: z.string() });
const thinkingDelta = z.object({ type: z.literal("thinking_delta"), thinking: z.string() });
const signatureDelta = z.object({ type: z.literal("signature_delta"), signature: z.string() });
const KNOWN_DELTAS = new Set(["text_delta", "input_json_delta", "thinking_delta", "signature_delta"]);
/** citations_delta and future types: read, never forwarded. */
const otherDelta = z
  .looseObject({ type: z.string().refine((t) => !KNOWN_DELTAS.has(t)) })
  .transform((d) => ({ type: "other" as const, kind: d.type }));

export const contentBlockDeltaEvent = z.object({
  type: z.literal("content_block_delta"),
  index: z.number(),
  delta: z.union([textDelta, inputJsonDelta, thinkingDelta, signatureDelta, otherDelta]),
});

export const contentBlockStopEvent = z.object({ type: z.literal("content_block_stop"), index: z.number() });

export const messageDeltaEvent = z.object({
  type: z.literal("message_delta"),
  delta: z.object({ stop_reason: z.string().nullish() }),
  usage: anthropicUsage.nullish(),
});

export const errorEvent = z.object({
  type: z.literal("error"),
  error: z.object({ type: z.string(), message: z.string() }),
});

export type AnthropicUsage = z.infer<typeof anthropicUsage>;
export type AnthropicContentBlock = z.infer<typeof contentBlock>;
