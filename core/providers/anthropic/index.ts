import type { ChatAdapter } from "../types.ts";
import { toAnthropicRequest } from "./request.ts";
import { fromAnthropicResponse } from "./response.ts";
import { type AnthropicStreamState, initAnthropicStream, reduceAnthropicStream } from "./stream.ts";

export const anthropicChat: ChatAdapter<AnthropicStreamState> = {
  toRequest: toAnthropicRequest,
  fromResponse: fromAnthropicResponse,
  initStream: initAnthropicStream,
  reduce: reduceAnthropicStream,
};
