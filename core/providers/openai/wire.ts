import { z } from "zod";

/** The subset of OpenAI's Chat Completions wire format the gateway reads. Unknown fields are kept out. */

export const openaiUsage = z.object({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number().optional(),
  // Every count OpenAI breaks usage into (cached, cache-write, audio, prediction tokens…) is kept, so
  // the caller gets OpenAI's usage as OpenAI sent it. Values are checked where they are read
  // (normalizeOpenAIUsage): a field of another shape OpenAI may add must not fail the response.
  prompt_tokens_details: z.record(z.string(), z.unknown()).nullish(),
  completion_tokens_details: z.record(z.string(), z.unknown()).nullish(),
});

const alternative = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number()).nullish(),
});
const tokenLogprob = alternative.extend({ top_logprobs: z.array(alternative).nullish() });

/** A choice's `logprobs` (present when the caller asked for them), kept for the caller. */
export const choiceLogprobs = z.object({
  content: z.array(tokenLogprob).nullish(),
  refusal: z.array(tokenLogprob).nullish(),
});

const toolCall = z.object({
  id: z.string(),
  type: z.literal("function").optional(),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

/**
 * A message annotation (a search model's `url_citation`, see chat-response.ts `Annotation`), passed on as
 * OpenAI sent it. Only `type` is checked: an annotation type OpenAI adds later must not fail the response.
 */
const annotation = z.looseObject({ type: z.string() });

export const openaiCompletion = z.object({
  id: z.string(),
  created: z.number(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number(),
      message: z.object({
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        annotations: z.array(annotation).nullish(),
        tool_calls: z.array(toolCall).nullish(),
      }),
      finish_reason: z.string().nullish(),
      logprobs: choiceLogprobs.nullish(),
    }),
  ),
  usage: openaiUsage.nullish(),
  system_fingerprint: z.string().nullish(),
  service_tier: z.string().nullish(),
  moderation: z.record(z.string(), z.unknown()).nullish(),
});

export const openaiEmbeddings = z.object({
  data: z.array(z.object({ index: z.number(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  // OpenAI always counts; an OpenAI-compatible server may not (openaiEmbeddingsUsageReported).
  usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number().optional() }).nullish(),
});

export type OpenAIUsage = z.infer<typeof openaiUsage>;
export type OpenAIChoiceLogprobs = z.infer<typeof choiceLogprobs>;
