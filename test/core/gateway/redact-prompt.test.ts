import { describe, expect, it } from "vitest";
import { type ChatRequest, chatRequest } from "../../../core/api/chat-request.ts";
import { redactPrompt } from "../../../core/gateway/redact-prompt.ts";

const EMAIL = "jane.doe@example.com";
const request = (over: Record<string, unknown>): ChatRequest =>
  chatRequest.parse({ model: "m", messages: [{ role: "user", content: `Mail ${EMAIL}` }], ...over });

describe("redactPrompt", () => {
  it("masks message text and counts what it masked", () => {
    const { request: sent, masked } = redactPrompt(request({}));
    expect(JSON.stringify(sent)).not.toContain(EMAIL);
    expect(masked).toBe(1);
  });

  it.each([
    ["as text", `Dear ${EMAIL},`],
    ["as text parts", [{ type: "text", text: `Dear ${EMAIL},` }]],
  ])("masks a prediction given %s, which OpenAI would otherwise receive", (_, content) => {
    const { request: sent, masked } = redactPrompt(request({ prediction: { type: "content", content } }));
    expect(JSON.stringify(sent.prediction)).not.toContain(EMAIL);
    expect(sent.prediction?.type).toBe("content");
    expect(masked).toBe(2);
  });

  it("masks the arguments of past tool calls and a past refusal, which the provider reads back", () => {
    const { request: sent, masked } = redactPrompt(
      request({
        messages: [
          { role: "user", content: "Find my account." },
          {
            role: "assistant",
            content: null,
            refusal: `Not for ${EMAIL}.`,
            tool_calls: [
              { id: "c1", type: "function", function: { name: "lookup", arguments: `{"email":"${EMAIL}"}` } },
            ],
          },
          { role: "tool", tool_call_id: "c1", content: "found" },
        ],
      }),
    );
    expect(JSON.stringify(sent)).not.toContain(EMAIL);
    const call = sent.messages[1]?.role === "assistant" ? sent.messages[1].tool_calls?.[0] : undefined;
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ email: "[EMAIL]" });
    expect(masked).toBe(2);
  });

  it("masks end-user ids, which teams often fill with an email address", () => {
    const { request: sent } = redactPrompt(request({ user: EMAIL, safety_identifier: EMAIL }));
    expect(sent).toMatchObject({ user: "[EMAIL]", safety_identifier: "[EMAIL]" });
  });

  it("adds no prediction to a request without one", () => {
    expect(redactPrompt(request({})).request).not.toHaveProperty("prediction");
  });
});
