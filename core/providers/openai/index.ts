import type { ChatAdapter, EmbeddingsAdapter } from "../types.ts";
import { toOpenAIEmbeddingsRequest, toOpenAIRequest } from "./request.ts";
import { fromOpenAIEmbeddings, fromOpenAIResponse, openaiEmbeddingsUsageReported } from "./response.ts";
import { initOpenAIStream, type OpenAIStreamState, reduceOpenAIStream } from "./stream.ts";

export const openaiChat: ChatAdapter<OpenAIStreamState> = {
  toRequest: toOpenAIRequest,
  fromResponse: fromOpenAIResponse,
  initStream: initOpenAIStream,
  reduce: reduceOpenAIStream,
};

export const openaiEmbeddingsAdapter: EmbeddingsAdapter = {
  toRequest: toOpenAIEmbeddingsRequest,
  fromResponse: fromOpenAIEmbeddings,
  usageReported: openaiEmbeddingsUsageReported,
};
