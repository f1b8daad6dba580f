import { describe, expect, it } from "vitest";
import { chatRequestInput } from "../../../core/api/chat-request-input.ts";
import { fromLegacyFunctions } from "../../../core/gateway/legacy-functions.ts";

/** The conversation as the gateway reads it, after a history with the given assistant turn. */
const read = (assistant: Record<string, unknown>) =>
  fromLegacyFunctions(
    chatRequestInput.parse({
      model: "m",
      messages: [
        { role: "user", content: "Help me pick a lock." },
        { role: "assistant", ...assistant },
        { role: "user", content: "Then tell me about locks." },
      ],
    }),
  ).messages[1];

describe("an assistant turn with refusal parts, as OpenAI's content may hold them", () => {
  it.each([
    [
      "a refusal part alone",
      { content: [{ type: "refusal", refusal: "I can't help with that." }] },
      { content: null, refusal: "I can't help with that." },
    ],
    [
      "text and refusal parts",
      {
        content: [
          { type: "text", text: "Locks are fun." },
          { type: "refusal", refusal: "But not picking them." },
        ],
      },
      { content: [{ type: "text", text: "Locks are fun." }], refusal: "But not picking them." },
    ],
    [
      "a refusal part beside a refusal field",
      { content: [{ type: "refusal", refusal: "Second." }], refusal: "First." },
      { content: null, refusal: "First.\nSecond." },
    ],
  ])("is read with its refusals as the refusal field: %s", (_what, assistant, expected) => {
    expect(read(assistant)).toEqual({ role: "assistant", ...expected });
  });

  it("is refused with a part of another type, naming it", () => {
    const parsed = chatRequestInput.safeParse({
      model: "m",
      messages: [{ role: "assistant", content: [{ type: "image_url", image_url: { url: "x" } }] }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["messages", 0, "content"]);
  });
});
