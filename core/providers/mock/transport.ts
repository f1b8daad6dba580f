import { Readable } from "node:stream";
import type { ChatRequest } from "../../api/chat-request.ts";
import { float32Base64 } from "../../api/embedding-encoding.ts";
import { SSE_DONE, sseData } from "../../api/sse-writer.ts";
import type { Transport, UpstreamResponse } from "../transport.ts";
import { lastUserText, mockEmbedding, splitTokens, wordCount } from "./echo.ts";

/**
 * The built-in `mock` provider: speaks OpenAI's wire format from inside the process, so the first curl
 * works without any provider account and still runs the whole request path (mapper, transport, stream
 * reducer, SSE writer). Deterministic: it echoes the last user message, one word per chunk.
 */
const MODELS = new Set(["echo"]);
const CREATED = 1_700_000_000;

const json = (status: number, body: unknown): UpstreamResponse => ({
  status,
  headers: { "content-type": "application/json" },
  body: Readable.from([Buffer.from(JSON.stringify(body))]),
});

const notFound = (model: string) =>
  json(404, {
    error: {
      message: `The model '${model}' does not exist on the mock provider.`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    },
  });

export function createMockTransport(): Transport {
  return {
    async send(_endpoint, request): Promise<UpstreamResponse> {
      const body = JSON.parse(request.body) as Record<string, unknown>;
      const model = String(body.model);
      if (!MODELS.has(model)) return notFound(model);
      if (request.path === "/embeddings") {
        // Token ids embed as their list, so the mock stays deterministic for them too.
        const raw = body.input;
        const list: unknown[] = Array.isArray(raw) && typeof raw[0] !== "number" ? raw : [raw];
        const inputs = list.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
        return json(200, {
          object: "list",
          model,
          data: inputs.map((text, index) => {
            const values = mockEmbedding(text);
            return {
              object: "embedding",
              index,
              embedding: body.encoding_format === "base64" ? float32Base64(values) : values,
            };
          }),
          usage: {
            prompt_tokens: inputs.reduce((n, t) => n + wordCount(t), 0),
            total_tokens: inputs.reduce((n, t) => n + wordCount(t), 0),
          },
        });
      }
      const req = body as unknown as ChatRequest;
      const reply = `Echo: ${lastUserText(req.messages)}`;
      const tokens = splitTokens(reply);
      const promptTokens = req.messages.reduce(
        (n, m) => n + wordCount(typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "")),
        0,
      );
      const usage = {
        prompt_tokens: promptTokens,
        completion_tokens: tokens.length,
        total_tokens: promptTokens + tokens.length,
      };
      const id = `chatcmpl-mock-${tokens.length}`;
      if (!req.stream) {
        return json(200, {
          id,
          object: "chat.completion",
          created: CREATED,
          model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: reply, refusal: null },
              finish_reason: "stop",
              logprobs: null,
            },
          ],
          usage,
        });
      }
      const chunk = (delta: object, finish: string | null) => ({
        id,
        object: "chat.completion.chunk",
        created: CREATED,
        model,
        choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      });
      const events = [
        sseData(chunk({ role: "assistant", content: "" }, null)),
        ...tokens.map((t) => sseData(chunk({ content: t }, null))),
        sseData(chunk({}, "stop")),
        sseData({ id, object: "chat.completion.chunk", created: CREATED, model, choices: [], usage }),
        SSE_DONE,
      ];
      return {
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: Readable.from(events.map((e) => Buffer.from(e))),
      };
    },
  };
}
