import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../../core/api/chat-request.ts";
import { toOpenAIRequest } from "../../../../core/providers/openai/request.ts";

const CTX = { providerId: "openai", model: "gpt-4o", apiKey: "sk-test" };
const sent = (over: Record<string, unknown>, model = CTX.model) =>
  JSON.parse(
    toOpenAIRequest(
      chatRequest.parse({ model: "alias", messages: [{ role: "user", content: "Hi" }], ...over }),
      {
        ...CTX,
        model,
      },
    ).body,
  );

describe("toOpenAIRequest", () => {
  it("passes the request as it is, with the provider model", () => {
    expect(sent({ temperature: 0.3, max_tokens: 50 })).toEqual({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hi" }],
      temperature: 0.3,
      max_tokens: 50,
    });
  });

  it("leaves out an assistant message's empty tool_calls, which OpenAI refuses and SDK helpers write", () => {
    const messages = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello", tool_calls: [] },
      { role: "user", content: "Again" },
    ];
    expect(sent({ messages }).messages[1]).toEqual({ role: "assistant", content: "Hello" });
  });

  it("always asks a stream for its usage, keeping the caller's other stream options", () => {
    expect(sent({ stream: true, stream_options: { include_obfuscation: false } }).stream_options).toEqual({
      include_obfuscation: false,
      include_usage: true,
    });
  });

  it.each(["o3", "o4-mini", "gpt-5", "gpt-5.4-mini", "gpt-5.6-sol"])(
    "gives %s, a reasoning model that refuses max_tokens, the limit as max_completion_tokens",
    (model) => {
      const body = sent({ max_tokens: 50 }, model);
      expect(body.max_completion_tokens).toBe(50);
      expect(body).not.toHaveProperty("max_tokens");
    },
  );

  it("keeps a reasoning model's own max_completion_tokens when both are set", () => {
    const body = sent({ max_tokens: 50, max_completion_tokens: 80 }, "gpt-5.4");
    expect(body).toMatchObject({ max_completion_tokens: 80 });
    expect(body).not.toHaveProperty("max_tokens");
  });
});
