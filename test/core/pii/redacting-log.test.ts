import { describe, expect, it } from "vitest";
import type { Log, LogFields } from "../../../core/log.ts";
import { redactingLog } from "../../../core/pii/redacting-log.ts";

interface Line {
  level: "info" | "warn" | "error";
  message: string;
  fields?: LogFields;
  args: number;
}

function recorder(): { log: Log; lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: Line["level"]) =>
    (...args: [string, LogFields?]) => {
      const [message, fields] = args;
      lines.push({ level, message, args: args.length, ...(fields ? { fields } : {}) });
    };
  return { log: { info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

const SECRETS = {
  openai: "sk-proj-EXAMPLEexample0EXAMPLEexample1EXAMPLEexample2",
  gateway: "sk-gw-EXAMPLEexample-EXAMPLE_example0000000000000",
  aws: "AKIAIOSFODNN7EXAMPLE",
  email: "alice@example.com",
  card: "4111 1111 1111 1111",
};

describe("redactingLog", () => {
  it("redacts the message and every string field at every level", () => {
    const { log, lines } = recorder();
    const safe = redactingLog(log);
    safe.info(`auth failed for ${SECRETS.gateway}`, { email: SECRETS.email, status: 401, ok: false });
    safe.warn(`provider key ${SECRETS.openai} rejected`, {
      key: SECRETS.aws,
      card: SECRETS.card,
      none: null,
    });
    safe.error("upstream error", { body: `{"error":"bad key ${SECRETS.openai}"}`, missing: undefined });
    expect(lines).toEqual([
      {
        level: "info",
        message: "auth failed for [SECRET:GATEWAY_KEY]",
        fields: { email: "[EMAIL]", status: 401, ok: false },
        args: 2,
      },
      {
        level: "warn",
        message: "provider key [SECRET:OPENAI_KEY] rejected",
        fields: { key: "[SECRET:AWS_ACCESS_KEY]", card: "[CARD]", none: null },
        args: 2,
      },
      {
        level: "error",
        message: "upstream error",
        fields: { body: '{"error":"bad key [SECRET:OPENAI_KEY]"}', missing: undefined },
        args: 2,
      },
    ]);
    const written = JSON.stringify(lines);
    for (const secret of Object.values(SECRETS)) expect(written).not.toContain(secret);
  });

  it("does not mutate the caller's fields, and passes no fields when none were given", () => {
    const { log, lines } = recorder();
    const fields = { email: SECRETS.email };
    redactingLog(log).info("plain line");
    redactingLog(log).info("with fields", fields);
    expect(fields.email).toBe(SECRETS.email);
    expect(lines[0]).toEqual({ level: "info", message: "plain line", args: 1 });
  });

  it("masks a card number logged as a number", () => {
    const { log, lines } = recorder();
    redactingLog(log).info("charge", { pan: 4111111111111111, amount: 1299, ms: 1717245045123 });
    expect(lines[0]!.fields).toEqual({ pan: "[CARD]", amount: 1299, ms: 1717245045123 });
  });

  it("reads a field's name as the label of its value, as it reads a JSON key", () => {
    const { log, lines } = recorder();
    // The same digits under a name that labels nothing first: a clean value is remembered by its text.
    redactingLog(log).info("a", { id: "4155550132" });
    redactingLog(log).info("b", { phone: "4155550132", ssn: 219099999, ring: 1048576 });
    expect(lines.map((l) => l.fields)).toEqual([
      { id: "4155550132" },
      { phone: "[PHONE]", ssn: "[SSN]", ring: 1048576 },
    ]);
  });

  it("wraps once", () => {
    const { log } = recorder();
    const safe = redactingLog(log);
    expect(redactingLog(safe)).toBe(safe);
  });
});

describe("redactingLog on repeated values", () => {
  it("masks a value with personal data every time, and passes a clean one unchanged every time", () => {
    const { log, lines } = recorder();
    const safe = redactingLog(log);
    for (let i = 0; i < 3; i++) safe.info("request", { org: "acme", model: SECRETS.email });
    expect(lines.map((l) => l.fields)).toEqual(Array(3).fill({ org: "acme", model: "[EMAIL]" }));
  });
});

describe("redactingLog on request ids", () => {
  it.each([
    ["a UUIDv7", "019ac1f2-3b4c-7d5e-8f60-7182a3b4c5d6"],
    ["a UUID of digits only", "12025550-1234-4567-8901-234567890123"],
  ])("passes %s through untouched", (_, id) => {
    const { log, lines } = recorder();
    redactingLog(log).info("request", { requestId: id });
    expect(lines[0]?.fields).toEqual({ requestId: id });
  });

  it("still scans a string that only looks UUID-shaped around personal data", () => {
    const { log, lines } = recorder();
    redactingLog(log).info("request", { requestId: `019ac1f2-3b4c-7d5e-8f60-7182a3b4c5d6 ${SECRETS.email}` });
    expect(lines[0]?.fields?.requestId).toContain("[EMAIL]");
  });
});
