import { anthropicChat } from "./anthropic/index.ts";
import { geminiChat, geminiEmbeddingsAdapter } from "./gemini/index.ts";
import { openaiChat, openaiEmbeddingsAdapter } from "./openai/index.ts";
import type { BaseStreamState, ChatAdapter, EmbeddingsAdapter, ProviderKind } from "./types.ts";

/**
 * Erases an adapter's private state type. Sound because a state value only ever flows from an adapter's
 * own `initStream` into its own `reduce`; the router reads nothing but the BaseStreamState fields.
 */
const erase = <S extends BaseStreamState>(adapter: ChatAdapter<S>): ChatAdapter<BaseStreamState> =>
  adapter as unknown as ChatAdapter<BaseStreamState>;

/** The built-in mock speaks OpenAI's wire format from inside the process (see mock/transport.ts). */
export const chatAdapters: Record<ProviderKind, ChatAdapter<BaseStreamState>> = {
  openai: erase(openaiChat),
  anthropic: erase(anthropicChat),
  gemini: erase(geminiChat),
  mock: erase(openaiChat),
};

/** Anthropic has no embeddings API. */
export const embeddingsAdapters: Partial<Record<ProviderKind, EmbeddingsAdapter>> = {
  openai: openaiEmbeddingsAdapter,
  gemini: geminiEmbeddingsAdapter,
  mock: openaiEmbeddingsAdapter,
};
