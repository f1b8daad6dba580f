import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../core/api/chat-request.ts";
import { type FilePart, inlinePdf } from "../../../core/providers/file-part.ts";

const PDF = "JVBERi0xLjcKJcfsj6IK";
const part = (file: Record<string, string>) => ({ type: "file", file }) as FilePart;

describe("inlinePdf", () => {
  it("takes a PDF data URL's base64, and its file name", () => {
    expect(
      inlinePdf(part({ file_data: `data:application/pdf;base64,${PDF}`, filename: "a.pdf" }), "p", "m"),
    ).toEqual({
      data: PDF,
      filename: "a.pdf",
    });
  });

  it.each([
    ["an OpenAI file id", { file_id: "file-abc123" }, "m.file.file_id"],
    ["another file type", { file_data: "data:text/csv;base64,YSxi" }, "m.file.file_data"],
    ["bare base64 without the data URL", { file_data: PDF }, "m.file.file_data"],
  ])("refuses %s with a 400 naming the field", (_, file, param) => {
    expect(() => inlinePdf(part(file), "anthropic", "m")).toThrow(
      expect.objectContaining({ status: 400, param }),
    );
  });
});

describe("the file part in the request schema", () => {
  const parse = (file: Record<string, string>) =>
    chatRequest.safeParse({ model: "m", messages: [{ role: "user", content: [{ type: "file", file }] }] })
      .success;

  it.each([
    ["file_data alone", { file_data: `data:application/pdf;base64,${PDF}` }, true],
    ["file_id alone", { file_id: "file-abc123" }, true],
    ["both", { file_data: `data:application/pdf;base64,${PDF}`, file_id: "file-abc123" }, false],
    ["neither", { filename: "a.pdf" }, false],
  ])("takes %s: %s", (_, file, ok) => {
    expect(parse(file)).toBe(ok);
  });
});
