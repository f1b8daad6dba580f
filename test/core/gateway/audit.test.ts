import { describe, expect, it } from "vitest";
import {
  auditRecordsFor,
  CAPTURE_LIMIT,
  captureText,
  type RequestCapture,
} from "../../../core/gateway/audit.ts";
import { newOutcome } from "../../../core/gateway/outcome.ts";
import type { RequestContext } from "../../../core/gateway/types.ts";

/** A finished request of a sensitive org whose answer was `chunks`, streamed in that order. */
function recordedAnswer(chunks: string[]): string {
  const capture: RequestCapture = { request: { model: "m" }, content: "", toolCalls: [] };
  for (const c of chunks) captureText(capture, c);
  const ctx = {
    requestId: "req-1",
    startedAt: Date.UTC(2026, 10, 27),
    outcome: { ...newOutcome("req-1", "/v1/chat/completions"), status: 200 },
    key: { id: "k", org: "acme" },
    snapshot: { orgs: new Map([["acme", { id: "acme", sensitive: true }]]) },
    capture,
  } as unknown as RequestContext;
  const [record] = auditRecordsFor(ctx);
  return (record!.data.response as { content: string }).content;
}

describe("the audited answer of a sensitive org", () => {
  it("is kept whole up to the limit", () => {
    const answer = "x ".repeat(CAPTURE_LIMIT / 2);
    expect(recordedAnswer([answer])).toBe(answer);
  });

  it.each([
    ["a card number", "4111 1111 1111 1111", "[CARD]"],
    ["an email address", "jonathan.doe@example.com", "[EMAIL]"],
    ["an OpenAI key", "sk-proj-AbCdEf1234567890GhIjKlMn", "[SECRET"],
  ])("masks %s across the cut before cutting, so no part of it is kept", (_, value, mask) => {
    // The value starts 5 characters before the limit: a cut first would keep its head.
    const filler = "x".repeat(CAPTURE_LIMIT - 5 - 1);
    const content = recordedAnswer([`${filler} `, value.slice(0, 8), value.slice(8), " and more"]);
    expect(content.endsWith("…[truncated]")).toBe(true);
    expect(content.length).toBe(CAPTURE_LIMIT + "…[truncated]".length);
    expect(content).not.toContain(value.slice(0, 5));
    expect(content.slice(-40)).toContain(mask.slice(0, 5));
  });

  it("keeps no part of a finding the capture's own cut split, however much masking shortened the rest", () => {
    // Addresses shrink to [EMAIL] when masked: 80 KiB of them mask to far less than 64 KiB, which would
    // bring the capture's cut, and the card number across it, into what the record keeps.
    const addresses = "jonathan.doe@example.com ".repeat(Math.ceil((CAPTURE_LIMIT + 16 * 1024) / 25));
    const upToCut = addresses.slice(0, CAPTURE_LIMIT + 16 * 1024 - 10);
    const content = recordedAnswer([upToCut, "4111 1111 1111 1111 and more"]);
    expect(content).not.toMatch(/4111|jonathan|\.doe/);
    expect(content.endsWith("…[truncated]")).toBe(true);
  });

  it("marks no cut when masking brings a longer answer within the limit", () => {
    const answer = "write to jonathan.doe@example.com now ".repeat(Math.ceil((CAPTURE_LIMIT + 1024) / 38));
    const content = recordedAnswer([answer]);
    expect(content).not.toContain("…[truncated]");
    expect(content).not.toContain("jonathan");
  });

  it("keeps no more than the limit and a margin while the stream lasts", () => {
    const capture: RequestCapture = { request: {}, content: "", toolCalls: [] };
    for (let i = 0; i < 200; i++) captureText(capture, "y".repeat(1024));
    expect(capture.content.length).toBe(CAPTURE_LIMIT + 16 * 1024);
    expect(capture.cut).toBe(true);
  });
});
