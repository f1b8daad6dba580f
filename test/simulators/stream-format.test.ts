import { StringDecoder } from "node:string_decoder";
import { describe, expect, it, onTestFinished } from "vitest";
import { DEFAULT_API_KEY, startAnthropicSimulator, startGeminiSimulator } from "./index.ts";
import { auth, bodyText, chatBody, dataLines, rawPost, useOpenAISimulators } from "./raw-client.ts";

const openai = useOpenAISimulators();

describe("stream wire format (raw HTTP)", () => {
  it("streams split a multi-byte UTF-8 character across writes; chunked + keep-alive", async () => {
    const sim = await openai({ chunkChars: 3 });
    const r = await rawPost(`${sim.url}/chat/completions`, chatBody("日本語 ✓ é", true), auth);
    expect(r.headers["transfer-encoding"]).toBe("chunked");
    expect(r.headers.connection).toBe("keep-alive");
    const splitSomewhere = r.chunks.some((c) => c.toString("utf8").endsWith("\uFFFD"));
    expect(splitSomewhere).toBe(true);
    const decoder = new StringDecoder("utf8");
    const decoded = r.chunks.map((c) => decoder.write(c)).join("") + decoder.end();
    expect(decoded).not.toContain("\uFFFD");
    const reply = dataLines(decoded)
      .filter((d) => d !== "[DONE]")
      .map(
        (d) =>
          (JSON.parse(d) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ??
          "",
      )
      .join("");
    expect(reply).toBe("Echo: 日本語 ✓ é");
  });

  it("line endings: Gemini CRLF by default, OpenAI LF by default, crlf option; Anthropic event lines", async () => {
    const gem = await startGeminiSimulator();
    const ant = await startAnthropicSimulator({ crlf: true });
    onTestFinished(() => Promise.all([gem.close(), ant.close()]).then(() => undefined));
    const lf = await openai();
    const crlf = await openai({ crlf: true });
    const g = await rawPost(
      `${gem.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      { contents: [{ role: "user", parts: [{ text: "hey" }] }] },
      { "x-goog-api-key": DEFAULT_API_KEY },
    );
    expect(bodyText(g)).toMatch(/^data: \{.*\}\r\n\r\n/);
    expect(bodyText(await rawPost(`${lf.url}/chat/completions`, chatBody("x", true), auth))).not.toContain(
      "\r",
    );
    expect(bodyText(await rawPost(`${crlf.url}/chat/completions`, chatBody("x", true), auth))).toContain(
      "data: [DONE]\r\n\r\n",
    );
    const a = await rawPost(
      `${ant.url}/v1/messages`,
      { model: "m", max_tokens: 9, stream: true, messages: [{ role: "user", content: "x" }] },
      { "x-api-key": DEFAULT_API_KEY, "anthropic-version": "2023-06-01" },
    );
    const body = bodyText(a);
    expect(body.startsWith("event: message_start\r\ndata: ")).toBe(true);
    expect(body.match(/event: ping/g)).toHaveLength(1);
    expect(body).toContain("event: message_stop\r\ndata: ");
  });
});
