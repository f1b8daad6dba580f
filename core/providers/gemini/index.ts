import type { ChatAdapter, EmbeddingsAdapter } from "../types.ts";
import { toGeminiEmbeddingsRequest, toGeminiRequest } from "./request.ts";
import { fromGeminiEmbeddings, fromGeminiResponse, geminiEmbeddingsUsageReported } from "./response.ts";
import { endGeminiStream, type GeminiStreamState, initGeminiStream, reduceGeminiStream } from "./stream.ts";

export const geminiChat: ChatAdapter<GeminiStreamState> = {
  toRequest: toGeminiRequest,
  fromResponse: fromGeminiResponse,
  initStream: initGeminiStream,
  reduce: reduceGeminiStream,
  endStream: endGeminiStream,
};

export const geminiEmbeddingsAdapter: EmbeddingsAdapter = {
  toRequest: toGeminiEmbeddingsRequest,
  fromResponse: fromGeminiEmbeddings,
  usageReported: geminiEmbeddingsUsageReported,
};

/** How many inputs one Gemini embeddings call takes; the embeddings route splits larger requests. */
export { GEMINI_EMBEDDINGS_PER_CALL } from "./request.ts";
