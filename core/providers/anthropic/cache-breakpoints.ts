import type { AnthropicMessage, DocumentBlock, ImageBlock, RequestBlock, TextBlock } from "./messages.ts";

/**
 * Anthropic takes at most 4 blocks with `cache_control` per request (prompt caching: "up to 4 cache
 * breakpoints"), and refuses a fifth with 400. OpenAI keeps breakpoints across a whole conversation and
 * writes only the latest four; so do we, by keeping the last 4 in Anthropic's prefix order (system, then
 * messages), which are the ones that cover the longest prefixes.
 */
export const MAX_CACHE_BREAKPOINTS = 4;

function* marked(blocks: readonly RequestBlock[]): Generator<TextBlock | ImageBlock | DocumentBlock> {
  for (const b of blocks) {
    if ((b.type === "text" || b.type === "image" || b.type === "document") && b.cache_control) yield b;
    else if (b.type === "tool_result" && Array.isArray(b.content)) yield* marked(b.content);
  }
}

/** Drops `cache_control` from all but the last MAX_CACHE_BREAKPOINTS blocks of a freshly mapped request. */
export function capCacheBreakpoints(system: TextBlock[], messages: AnthropicMessage[]): void {
  const all = [
    ...marked(system),
    ...messages.flatMap((m) => (typeof m.content === "string" ? [] : [...marked(m.content)])),
  ];
  for (const block of all.slice(0, -MAX_CACHE_BREAKPOINTS)) delete block.cache_control;
}
