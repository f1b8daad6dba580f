import { describe, expect, it } from "vitest";
import { keyChangeRecords } from "../../../core/audit/changes.ts";
import type { ApiKeyRecord } from "../../../core/keys/port.ts";

const key = (over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: "k1",
  org: "acme",
  role: "api",
  sha256: "a".repeat(64),
  createdAt: "2026-11-26T00:00:00.000Z",
  ...over,
});
const records = (before: ApiKeyRecord[], after: ApiKeyRecord[]) =>
  keyChangeRecords(before, after, new Set(["k1"]), "run-1", 0).map((r) => r.data);

describe("keyChangeRecords", () => {
  it("records nothing when a start re-applies the same key (only its write time moved)", () => {
    expect(records([key()], [key({ createdAt: "2026-11-27T00:00:00.000Z" })])).toEqual([]);
  });

  it("records a new key, from the config file or the bootstrap, without its hash", () => {
    const out = records([], [key(), key({ id: "bootstrap-api" })]);
    expect(out).toEqual([
      expect.objectContaining({ source: "config-file", action: "create", before: null }),
      expect.objectContaining({ source: "bootstrap", action: "create", before: null }),
    ]);
    expect(JSON.stringify(out)).not.toContain("a".repeat(64));
  });

  it("records a replaced secret or changed limits as a replace", () => {
    expect(records([key()], [key({ sha256: "b".repeat(64) })])).toEqual([
      expect.objectContaining({
        action: "replace",
        after: expect.objectContaining({ secretReplaced: true }),
      }),
    ]);
    expect(records([key()], [key({ models: ["smart"] })])).toEqual([
      expect.objectContaining({ action: "replace", after: expect.objectContaining({ models: ["smart"] }) }),
    ]);
  });
});
