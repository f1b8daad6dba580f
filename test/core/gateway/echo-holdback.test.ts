import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "../../../core/api/chat-response.ts";
import { flushEchoes, type HeldText, maskEchoes, NOTHING_HELD } from "../../../core/gateway/echo-holdback.ts";
import { withDelta } from "../../fixtures/chunks.ts";

const KEY = "sk-proj-ABCdef0123456789";

/** The deltas' content as the caller gets it, the stream ended after them. */
function relay(deltas: Array<[string, ("stop" | null)?]>, secrets = [KEY]): string[] {
  let held: HeldText = NOTHING_HELD;
  const out: string[] = [];
  let last: ChatCompletionChunk | undefined;
  for (const [content, finish] of deltas) {
    const step = maskEchoes(withDelta({ content }, finish ?? null), secrets, held);
    held = step.held;
    last = step.chunks.at(-1)!;
    out.push(step.chunks.at(-1)!.choices[0]?.delta.content ?? "");
  }
  const rest = last && flushEchoes(last, held);
  if (rest) out.push(rest.choices[0]?.delta.content ?? "");
  return out;
}

describe("maskEchoes", () => {
  it("masks a credential streamed a few characters at a time, and holds back only what could begin it", () => {
    expect(relay([["your key: sk-"], ["proj-ABCdef01"], ["23456789 ok"]])).toEqual([
      "your key: ",
      "",
      "[REDACTED] ok",
    ]);
  });

  it("lets held text go with the next delta once it turns out to be no credential", () => {
    expect(relay([["ask s"], ["k-me"], [" more"]])).toEqual(["ask ", "sk-me", " more"]);
  });

  it("lets held text go with the choice's finish reason, or at the end of the stream", () => {
    expect(relay([["yes sk-pro"], ["", "stop"]])).toEqual(["yes ", "sk-pro"]);
    expect(relay([["yes sk-pro"]])).toEqual(["yes ", "sk-pro"]);
  });

  it("masks a credential whole in one delta", () => {
    expect(relay([[`a ${KEY} b`, "stop"]])).toEqual(["a [REDACTED] b"]);
  });

  it("returns the chunk itself when nothing in it could begin a credential", () => {
    const chunk = withDelta({ content: "plain text" });
    const step = maskEchoes(chunk, [KEY], NOTHING_HELD);
    expect(step.chunks).toEqual([chunk]);
    expect(step.chunks[0]).toBe(chunk);
    expect(step.held.text.size).toBe(0);
    expect(maskEchoes(chunk, [], NOTHING_HELD).chunks[0]).toBe(chunk);
  });

  it("gives back, at the end of the stream, held text that begins a credential more than once", () => {
    expect(relay([["x abcabc"]], ["abcabcabcXYZ12345"])).toEqual(["x ", "abcabc"]);
  });

  it.each([
    [
      "tool call arguments",
      (piece: string) => ({ tool_calls: [{ index: 1, function: { arguments: piece } }] }),
      (c: ChatCompletionChunk) => c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "",
    ],
    [
      "a refusal",
      (piece: string) => ({ refusal: piece }),
      (c: ChatCompletionChunk) => c.choices[0]?.delta.refusal ?? "",
    ],
    [
      "legacy function call arguments",
      (piece: string) => ({ function_call: { arguments: piece } }),
      (c: ChatCompletionChunk) => c.choices[0]?.delta.function_call?.arguments ?? "",
    ],
  ])("masks a credential streamed across the deltas of %s", (_what, delta, read) => {
    let held: HeldText = NOTHING_HELD;
    const out: string[] = [];
    for (const piece of ['{"k":"sk-proj-ABC', 'def0123456789"}']) {
      const step = maskEchoes(withDelta(delta(piece)), [KEY], held);
      held = step.held;
      out.push(read(step.chunks.at(-1)!));
    }
    const finish = maskEchoes(withDelta({}, "stop"), [KEY], held);
    expect(out.join("") + read(finish.chunks.at(-1)!)).toBe('{"k":"[REDACTED]"}');
    expect(finish.held.text.size).toBe(0);
  });

  it("holds nothing back inside a word: ordinary text and its log probabilities go out as they came", () => {
    const lp = (token: string) => ({
      content: [{ token, logprob: -1, bytes: null, top_logprobs: [] }],
      refusal: null,
    });
    let held: HeldText = NOTHING_HELD;
    for (const piece of ["This", " is", " fine"]) {
      const chunk = {
        ...withDelta({ content: piece }),
        choices: [{ ...withDelta({ content: piece }).choices[0]!, logprobs: lp(piece) }],
      };
      const step = maskEchoes(chunk, [KEY], held);
      expect(step.chunks.at(-1)!).toBe(chunk);
      held = step.held;
    }
  });

  it("sends the log probabilities of held text with it once it turns out to be no credential", () => {
    const lp = (token: string) => ({
      content: [{ token, logprob: -1, bytes: null, top_logprobs: [] }],
      refusal: null,
    });
    const at = (content: string) => ({
      ...withDelta({ content }),
      choices: [{ ...withDelta({ content }).choices[0]!, logprobs: lp(content) }],
    });
    const first = maskEchoes(at("a s"), [KEY], NOTHING_HELD);
    expect(first.chunks.at(-1)!.choices[0]).toMatchObject({ delta: { content: "a " }, logprobs: null });
    const second = maskEchoes(at("o on"), [KEY], first.held);
    expect(second.chunks.at(-1)!.choices[0]?.delta.content).toBe("so on");
    expect(second.chunks.at(-1)!.choices[0]?.logprobs?.content?.map((t) => t.token)).toEqual(["a s", "o on"]);
  });

  it("holds nothing back at a delta's start inside a word (a plural's s), as the last character sent says", () => {
    const first = maskEchoes(withDelta({ content: " token" }), [KEY], NOTHING_HELD);
    const plural = maskEchoes(withDelta({ content: "s" }), [KEY], first.held);
    expect(plural.chunks.at(-1)?.choices[0]?.delta.content).toBe("s");
    expect(plural.held.text.size).toBe(0);
  });

  it("sends held text before a delta that turns to tool calls", () => {
    const first = maskEchoes(withDelta({ content: "checking s" }), [KEY], NOTHING_HELD);
    const tools = maskEchoes(
      withDelta({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: "" } }] }),
      [KEY],
      first.held,
    );
    // In a chunk of its own, before the tool call's.
    expect(tools.chunks.map((c) => c.choices[0]?.delta.content)).toEqual(["s", undefined]);
    expect(tools.held.text.size).toBe(0);
  });

  it("keeps each choice's held text apart", () => {
    const two = (a: string, b: string): ChatCompletionChunk => ({
      ...withDelta({ content: a }),
      choices: [
        { index: 0, delta: { content: a }, finish_reason: null, logprobs: null },
        { index: 1, delta: { content: b }, finish_reason: null, logprobs: null },
      ],
    });
    const first = maskEchoes(two("x sk-proj", "y"), [KEY], NOTHING_HELD);
    const second = maskEchoes(two("-ABCdef0123456789", "sk-proj-ABCdef0123456789"), [KEY], first.held);
    expect(second.chunks.at(-1)!.choices.map((c) => c.delta.content)).toEqual(["[REDACTED]", "[REDACTED]"]);
  });
});
