import type { ChatRequest, ToolChoice } from "../api/chat-request.ts";

/**
 * OpenAI's `tool_choice: { type: "allowed_tools" }` for a provider without it (Anthropic, Gemini): the
 * request offers only the allowed tools, and may (`auto`) or must (`required`) call one. The model can
 * call exactly what OpenAI would let it; what is lost is only OpenAI's point of keeping the tool list,
 * and so the prompt prefix, unchanged. Every other request is returned as it is.
 */
/** A tool choice every provider has: none, auto, required, or one named function. */
export type DirectToolChoice = Exclude<ToolChoice, { type: "allowed_tools" }>;
export type DirectToolsRequest = Omit<ChatRequest, "tool_choice"> & {
  tool_choice?: DirectToolChoice | undefined;
};

export function withAllowedTools(req: ChatRequest): DirectToolsRequest {
  const choice = req.tool_choice;
  if (typeof choice !== "object" || choice.type !== "allowed_tools") return { ...req, tool_choice: choice };
  // Every allowed name is one of the tools (conversation-rules.ts refuses any other).
  const names = choice.allowed_tools.tools.map((t) => t.function.name);
  return {
    ...req,
    tools: req.tools?.filter((t) => names.includes(t.function.name)),
    tool_choice: choice.allowed_tools.mode,
  };
}
