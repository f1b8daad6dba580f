import { describe, expect, it } from "vitest";
import { capCacheBreakpoints } from "../../../../core/providers/anthropic/cache-breakpoints.ts";
import type { AnthropicMessage, TextBlock } from "../../../../core/providers/anthropic/messages.ts";

const cc = { type: "ephemeral" } as const;
const text = (t: string, marked = true): TextBlock => ({
  type: "text",
  text: t,
  ...(marked ? { cache_control: cc } : {}),
});
const markedTexts = (system: TextBlock[], messages: AnthropicMessage[]) =>
  JSON.stringify({ system, messages })
    .match(/"text":"[^"]+","cache_control"/g)
    ?.map((m) => m.split('"')[3]);

describe("capCacheBreakpoints", () => {
  it.each([
    ["keeps four or fewer as they are", 1, ["s", "m0", "r0", "m1"]],
    ["keeps the last four across system, messages and tool results", 4, ["r2", "m3", "r3", "m4"]],
  ])("%s", (_, turns, kept) => {
    const system = [text("s")];
    const messages: AnthropicMessage[] = [];
    for (let k = 0; k <= turns; k++) {
      messages.push({ role: "user", content: [text(`m${k}`), text("plain", false)] });
      if (k < turns)
        messages.push({
          role: "user",
          content: [{ type: "tool_result", tool_use_id: `t${k}`, content: [text(`r${k}`)] }],
        });
    }
    capCacheBreakpoints(system, messages);
    expect(markedTexts(system, messages)).toEqual(kept);
  });
});
