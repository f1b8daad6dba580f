import { describe, expect, it } from "vitest";
import { float32Base64 } from "../../../../core/api/embedding-encoding.ts";
import { type EmbeddingsRequest, embeddingsRequest } from "../../../../core/api/embeddings-request.ts";
import { geminiEmbeddingsAdapter } from "../../../../core/providers/gemini/index.ts";
import {
  fromGeminiEmbeddings,
  geminiEmbeddingsUsageReported,
} from "../../../../core/providers/gemini/response.ts";
import { ctx, meta, refusal } from "./helpers.ts";

const embedCtx = { ...ctx, model: "gemini-embedding-001" };
const request = (fields: Partial<EmbeddingsRequest>) =>
  geminiEmbeddingsAdapter.toRequest(
    embeddingsRequest.parse({ model: "embed", input: "x", ...fields }),
    embedCtx,
  );

describe("Gemini embeddings request", () => {
  it("sends every input as one batchEmbedContents request, in order", () => {
    const up = request({ input: ["a", "b"], dimensions: 768 });
    expect(up.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(up.headers["x-goog-api-key"]).toBe("test-key");
    expect(JSON.parse(up.body)).toEqual({
      requests: [
        {
          model: "models/gemini-embedding-001",
          content: { parts: [{ text: "a" }] },
          outputDimensionality: 768,
        },
        {
          model: "models/gemini-embedding-001",
          content: { parts: [{ text: "b" }] },
          outputDimensionality: 768,
        },
      ],
    });
  });

  it("wraps a single string input and leaves dimensions to the model when not given", () => {
    expect(JSON.parse(request({ input: "solo" }).body)).toEqual({
      requests: [{ model: "models/gemini-embedding-001", content: { parts: [{ text: "solo" }] } }],
    });
  });

  it("takes up to 100 inputs, and refuses more before the call, naming input: Google's batch cap", () => {
    const inputs = (n: number) => Array.from({ length: n }, (_, i) => `text ${i}`);
    expect(JSON.parse(request({ input: inputs(100) }).body).requests).toHaveLength(100);
    expect(refusal(() => request({ input: inputs(101) }))).toEqual({
      status: 400,
      param: "input",
      code: "unsupported_parameter",
    });
  });

  it("does not forward encoding_format, which Gemini lacks: the response mapper applies it", () => {
    const body = JSON.parse(request({ encoding_format: "base64" }).body) as Record<string, unknown>;
    expect(JSON.stringify(body)).not.toContain("encoding");
  });
});

describe("Gemini embeddings response", () => {
  // Unit length, as gemini-embedding-001's full-size vectors come.
  const body = { embeddings: [{ values: [0.6, -0.8] }, { values: [0, 1] }] };

  it("returns an OpenAI list in input order, with zero usage since Gemini reports none", () => {
    expect(geminiEmbeddingsAdapter.fromResponse(body, meta, "float")).toEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.6, -0.8] },
        { object: "embedding", index: 1, embedding: [0, 1] },
      ],
      model: meta.model,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  });

  it("takes token counts from the response when Gemini does report them", () => {
    const e = fromGeminiEmbeddings({ ...body, usageMetadata: { promptTokenCount: 6 } }, meta);
    expect(e.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
  });

  it("can encode vectors as OpenAI's little-endian float32 base64", () => {
    const encoded = float32Base64([0.5, -1]);
    expect(Buffer.from(encoded, "base64")).toEqual(Buffer.from([0, 0, 0, 0x3f, 0, 0, 0x80, 0xbf]));
    expect(fromGeminiEmbeddings(body, meta, "base64").data[0]?.embedding).toBe(float32Base64([0.6, -0.8]));
  });

  describe("vectors of a smaller outputDimensionality, which Google leaves unnormalized", () => {
    const short = { embeddings: [{ values: [3, 4] }, { values: [-0.1, 0.2, 0.2] }] };
    const length = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((sum, x) => sum + x * x, 0));

    it("come back at unit length, as OpenAI's do, pointing the same way", () => {
      const data = fromGeminiEmbeddings(short, meta, "float").data;
      expect(data[0]?.embedding).toEqual([0.6, 0.8]);
      for (const d of data) expect(length(d.embedding as number[])).toBeCloseTo(1, 12);
    });

    it("come back at unit length in base64 too, once decoded as float32", () => {
      for (const d of fromGeminiEmbeddings(short, meta, "base64").data) {
        const bytes = Buffer.from(d.embedding as string, "base64");
        const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
        expect(length(floats)).toBeCloseTo(1, 6);
      }
    });
  });

  it.each([
    ["of unit length as Gemini sent it", [0.6, -0.8]],
    ["of zeros as it is, having no direction", [0, 0, 0]],
  ])("leaves a vector %s", (_, values) => {
    const e = fromGeminiEmbeddings({ embeddings: [{ values }] }, meta, "float");
    expect(e.data[0]?.embedding).toEqual(values);
  });

  it("treats a response without embeddings as malformed (502)", () => {
    expect(refusal(() => geminiEmbeddingsAdapter.fromResponse({}, meta, "float"))).toMatchObject({
      status: 502,
    });
  });
});

describe("geminiEmbeddingsUsageReported", () => {
  it.each<[string, unknown, boolean]>([
    ["the Developer API's answer, which counts nothing", { embeddings: [] }, false],
    ["an answer with a token count", { embeddings: [], usageMetadata: { promptTokenCount: 6 } }, true],
    ["a count that is not a number", { embeddings: [], usageMetadata: { promptTokenCount: "6" } }, false],
    ["no body at all", null, false],
  ])("is %s → %s", (_, body, reported) => {
    expect(geminiEmbeddingsUsageReported(body)).toBe(reported);
  });
});
