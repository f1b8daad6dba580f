import { describe, expect, it } from "vitest";
import { fromOpenAIResponse } from "../../../../core/providers/openai/response.ts";
import { initOpenAIStream, reduceOpenAIStream } from "../../../../core/providers/openai/stream.ts";

const META = { id: "chatcmpl-gw", created: 1, model: "gpt-4o-search-preview", provider: "openai" };
const CITATION = {
  type: "url_citation",
  url_citation: { start_index: 0, end_index: 5, url: "https://example.com/", title: "Example" },
};
/** A type OpenAI may add later, with fields the gateway has never seen. */
const NEW_KIND = { type: "file_citation", file_citation: { file_id: "file-1", quote: "x" }, index: 3 };

const completion = (message: Record<string, unknown>) => ({
  id: "chatcmpl-1",
  created: 1,
  model: "gpt-4o-search-preview",
  choices: [
    { index: 0, message: { role: "assistant", content: "Hello", ...message }, finish_reason: "stop" },
  ],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

const chunk = (delta: Record<string, unknown>) => ({
  event: undefined,
  data: JSON.stringify({
    id: "chatcmpl-1",
    created: 1,
    model: "gpt-4o-search-preview",
    choices: [{ index: 0, delta, finish_reason: null }],
  }),
});

describe("OpenAI annotations", () => {
  it.each([
    ["a url_citation", [CITATION]],
    ["an annotation type the gateway does not know", [CITATION, NEW_KIND]],
    ["the empty list OpenAI sends without citations", []],
  ])("reach the caller of a non-stream response as OpenAI sent them: %s", (_what, annotations) => {
    const message = fromOpenAIResponse(completion({ annotations }), META).choices[0]?.message;
    expect(message?.annotations).toEqual(annotations);
  });

  it.each([
    ["absent", {}],
    ["null", { annotations: null }],
  ])("are left out of a non-stream message when OpenAI's are %s", (_what, fields) => {
    expect(fromOpenAIResponse(completion(fields), META).choices[0]?.message).not.toHaveProperty(
      "annotations",
    );
  });

  it("reach the caller of a stream on the delta OpenAI sent them with", () => {
    const step = reduceOpenAIStream(chunk({ annotations: [CITATION, NEW_KIND] }), initOpenAIStream(META));
    expect(step.fault).toBeUndefined();
    expect(step.out[0]?.choices[0]?.delta).toEqual({ annotations: [CITATION, NEW_KIND] });
  });

  it("are left out of a stream delta that has none", () => {
    const step = reduceOpenAIStream(chunk({ content: "Hi" }), initOpenAIStream(META));
    expect(step.out[0]?.choices[0]?.delta).toEqual({ content: "Hi" });
  });

  const malformed: Array<[string, unknown]> = [
    ["not a list", { type: "url_citation" }],
    ["a list holding a string", ["url_citation"]],
    ["an annotation without a type", [{ url_citation: CITATION.url_citation }]],
    ["an annotation whose type is not a string", [{ type: 7 }]],
  ];

  it.each(malformed)("fail a non-stream response as malformed when they are %s", (_what, annotations) => {
    expect(() => fromOpenAIResponse(completion({ annotations }), META)).toThrow(
      expect.objectContaining({ code: "upstream_malformed" }),
    );
  });

  it.each(malformed)("fail a stream chunk as malformed when they are %s", (_what, annotations) => {
    const step = reduceOpenAIStream(chunk({ annotations }), initOpenAIStream(META));
    expect(step.out).toEqual([]);
    expect(step.fault?.code).toBe("upstream_malformed");
  });

  it("go with the chunk's system_fingerprint, which a stream keeps as the response does", () => {
    const raw = {
      event: undefined,
      data: JSON.stringify({
        id: "chatcmpl-1",
        created: 1,
        model: "gpt-4o",
        system_fingerprint: "fp_y",
        choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }],
      }),
    };
    expect(reduceOpenAIStream(raw, initOpenAIStream(META)).out[0]?.system_fingerprint).toBe("fp_y");
  });
});
