import { describe, expect, it } from "vitest";
import { initOpenAIStream, reduceOpenAIStream } from "../../../../core/providers/openai/stream.ts";

const META = { id: "chatcmpl-gw", created: 1, model: "gpt-4o", provider: "openai" };
const USAGE = { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 };
const event = (fields: Record<string, unknown>) => ({
  event: undefined,
  data: JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o",
    ...fields,
  }),
});
const delta = { index: 0, delta: { content: "Hi" }, finish_reason: null };

describe("the OpenAI stream reducer's usage", () => {
  it.each([
    ["OpenAI's usage chunk, which has no choices", { choices: [], usage: USAGE }, true],
    [
      "a running count beside choices (an OpenAI-compatible server's continuous usage)",
      { choices: [delta], usage: USAGE },
      false,
    ],
    ["a chunk whose usage is null, as OpenAI sends before the end", { choices: [delta], usage: null }, false],
  ])("takes %s as final: %s", (_, fields, final) => {
    const { state } = reduceOpenAIStream(event(fields), initOpenAIStream(META));
    expect(state.usageFinal === true).toBe(final);
  });

  const finish = (index: number) => ({ index, delta: {}, finish_reason: "stop" });
  const second = { ...delta, index: 1 };
  const run = (choices: number, ...chunks: Record<string, unknown>[]) =>
    chunks.reduce(
      (state, fields) => reduceOpenAIStream(event(fields), state).state,
      initOpenAIStream({ ...META, choices }),
    );

  it.each([
    [
      "usage on the finish chunk of the only choice",
      true,
      1,
      [{ choices: [delta] }, { choices: [finish(0)], usage: USAGE }],
    ],
    [
      "usage on the finish chunk of the last of two choices",
      true,
      2,
      [{ choices: [delta, second] }, { choices: [finish(0)] }, { choices: [finish(1)], usage: USAGE }],
    ],
    [
      "a running count on the finish chunk of one of two choices, the other still going",
      false,
      2,
      [{ choices: [delta, second] }, { choices: [finish(0)], usage: USAGE }],
    ],
    [
      "a running count on the finish chunk of the first of two choices sent one after the other",
      false,
      2,
      [
        { choices: [delta], usage: USAGE },
        { choices: [finish(0)], usage: USAGE },
      ],
    ],
  ])("takes %s as the final bill of a finished stream: %s", (_, whole, n, chunks) => {
    const state = run(n, ...chunks);
    expect(state.usageFinal === true).toBe(whole);
    expect(state.finished).toBe(whole);
  });

  it("stays final once the usage chunk has come", () => {
    const after = reduceOpenAIStream(event({ choices: [], usage: USAGE }), initOpenAIStream(META)).state;
    expect(reduceOpenAIStream(event({ choices: [delta] }), after).state.usageFinal).toBe(true);
  });
});

describe("the OpenAI stream reducer's faults", () => {
  it.each([
    [
      "an error object, the provider's own word on the call",
      '{"error":{"message":"overloaded","type":"server_error"}}',
      true,
    ],
    ["an event that is not JSON", "{not json", false],
    ["JSON that is not a chunk", '{"object":"list"}', false],
  ])("say whether the provider declared the failure: %s", (_, data, declared) => {
    const { fault } = reduceOpenAIStream({ event: undefined, data }, initOpenAIStream(META));
    expect(fault?.declared === true).toBe(declared);
  });
});
