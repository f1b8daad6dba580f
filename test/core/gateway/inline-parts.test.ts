import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../core/api/chat-request.ts";
import { auditedRequest, firstPart, refuseUnboundedParts } from "../../../core/gateway/inline-parts.ts";

const file = { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=" } };
const request = chatRequest.parse({
  model: "m",
  messages: [
    { role: "user", content: "first" },
    { role: "user", content: [{ type: "text", text: "read this" }, file] },
  ],
});
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const plain = chatRequest.parse({ model: "m", messages: [{ role: "user", content: "hi" }] });

describe("file parts under a budget or redaction", () => {
  it("finds the first file part", () => {
    expect(firstPart(request, "file")).toBe("messages[1].content[1]");
    expect(firstPart(request, "input_audio")).toBeUndefined();
    expect(firstPart(plain, "file")).toBeUndefined();
  });

  it.each([
    ["a budget", { budget: true, redaction: false }, "file_not_priced"],
    ["redaction", { budget: false, redaction: true }, "file_not_redactable"],
  ])("refuses a file under %s, naming it", (_, under, code) => {
    expect(() => refuseUnboundedParts(request, under)).toThrow(
      expect.objectContaining({ status: 400, code, param: "messages[1].content[1]" }),
    );
  });

  it("lets a file through otherwise, and a request without one always", () => {
    expect(() => refuseUnboundedParts(request, { budget: false, redaction: false })).not.toThrow();
    expect(() => refuseUnboundedParts(plain, { budget: true, redaction: true })).not.toThrow();
  });

  it.each([
    ["a budget", { budget: true, redaction: false }, "audio_not_priced"],
    ["redaction", { budget: false, redaction: true }, "audio_not_redactable"],
  ])("refuses audio under %s, naming it", (_, under, code) => {
    const audio = chatRequest.parse({
      model: "m",
      messages: [
        {
          role: "user",
          content: [{ type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }],
        },
      ],
    });
    expect(() => refuseUnboundedParts(audio, under)).toThrow(
      expect.objectContaining({ status: 400, code, param: "messages[0].content[0]" }),
    );
  });
});

describe("auditedRequest", () => {
  it("keeps a file's digest and size, not its data, and leaves the rest as it was", () => {
    const audited = auditedRequest(request);
    const part = audited.messages[1]?.content?.[1];
    expect(part).toEqual({
      type: "file",
      file: {
        file_data:
          "[file sha256:57dd7ee7cd89c113ccbf6ec99d6cce7359652f8af388fd647281cf6330104457, 36 characters]",
      },
    });
    expect(audited.messages[0]).toEqual(request.messages[0]);
    expect(auditedRequest(plain)).toBe(plain);
  });

  it("keeps audio's digest", () => {
    const wav = "UklGRiQAAABXQVZF";
    const audio = chatRequest.parse({
      model: "m",
      messages: [
        { role: "user", content: [{ type: "input_audio", input_audio: { data: wav, format: "wav" } }] },
      ],
    });
    expect(auditedRequest(audio).messages[0]?.content).toEqual([
      {
        type: "input_audio",
        input_audio: { data: `[audio sha256:${sha256(wav)}, ${wav.length} characters]`, format: "wav" },
      },
    ]);
  });

  it("keeps an inline image's digest too, and an image URL as it is", () => {
    const png = "data:image/png;base64,iVBORw0KGgo=";
    const withImages = chatRequest.parse({
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: png } },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
          ],
        },
      ],
    });
    const content = auditedRequest(withImages).messages[0]?.content;
    expect(content).toEqual([
      { type: "image_url", image_url: { url: `[image sha256:${sha256(png)}, ${png.length} characters]` } },
      { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
    ]);
  });
});
