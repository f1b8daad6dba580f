import { z } from "zod";

/**
 * The subset of the Gemini Developer API (`generativelanguage` v1beta) wire format the gateway reads.
 * The REST API speaks camelCase JSON and omits proto3 defaults (e.g. candidate `index` 0), hence nullish.
 */

/** One modality's share of a count (`ModalityTokenCount`: TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT). */
const modalityCount = z.object({ modality: z.string().nullish(), tokenCount: z.number().nullish() });

export const geminiUsage = z.object({
  promptTokenCount: z.number().nullish(),
  /** The prompt's count by modality: audio input is billed above text on the Flash models. */
  promptTokensDetails: z.array(modalityCount).nullish(),
  candidatesTokenCount: z.number().nullish(),
  cachedContentTokenCount: z.number().nullish(),
  thoughtsTokenCount: z.number().nullish(),
  toolUsePromptTokenCount: z.number().nullish(),
  totalTokenCount: z.number().nullish(),
});

const functionCall = z.object({
  name: z.string(),
  args: z.record(z.string(), z.unknown()).nullish(),
  id: z.string().nullish(),
});

const part = z.object({
  text: z.string().nullish(),
  /** True on reasoning-summary parts; they are not answer text. */
  thought: z.boolean().nullish(),
  functionCall: functionCall.nullish(),
  /**
   * Opaque reasoning state Gemini attaches to a part (Gemini 3 checks it on replayed `functionCall`
   * parts). A sibling of `functionCall`, not inside it.
   */
  thoughtSignature: z.string().nullish(),
});

const logprobsCandidate = z.object({ token: z.string().nullish(), logProbability: z.number().nullish() });

/** Per decoding step: the token chosen, and the most likely ones (`responseLogprobs`, `logprobs`). */
export const logprobsResult = z.object({
  chosenCandidates: z.array(logprobsCandidate).nullish(),
  topCandidates: z.array(z.object({ candidates: z.array(logprobsCandidate).nullish() })).nullish(),
});

const candidate = z.object({
  index: z.number().nullish(),
  content: z.object({ role: z.string().nullish(), parts: z.array(part).nullish() }).nullish(),
  finishReason: z.string().nullish(),
  finishMessage: z.string().nullish(),
  logprobsResult: logprobsResult.nullish(),
});

/** A whole `generateContent` response, and also one `streamGenerateContent?alt=sse` chunk. */
export const geminiResponse = z.object({
  candidates: z.array(candidate).nullish(),
  promptFeedback: z.object({ blockReason: z.string().nullish() }).nullish(),
  usageMetadata: geminiUsage.nullish(),
  modelVersion: z.string().nullish(),
  responseId: z.string().nullish(),
});

/** Google's error envelope, which can also arrive as an SSE `data:` payload mid-stream. */
export const geminiErrorPayload = z.object({
  error: z.object({
    code: z.number().nullish(),
    message: z.string().nullish(),
    status: z.string().nullish(),
  }),
});

export const geminiEmbeddings = z.object({
  embeddings: z.array(z.object({ values: z.array(z.number()) })),
  /** Not sent by the Developer API today (Vertex has it); read only if it appears. */
  usageMetadata: z.object({ promptTokenCount: z.number().nullish() }).nullish(),
});

export type GeminiUsage = z.infer<typeof geminiUsage>;
export type GeminiResponse = z.infer<typeof geminiResponse>;
export type GeminiCandidate = z.infer<typeof candidate>;
export type GeminiFunctionCall = z.infer<typeof functionCall>;
export type GeminiResponsePart = z.infer<typeof part>;
export type GeminiLogprobsResult = z.infer<typeof logprobsResult>;
