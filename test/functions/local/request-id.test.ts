import { describe, expect, it } from "vitest";
import { createRequestIds, uuidV7, uuidV7Floor } from "../../../functions/local/request-id.ts";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidV7", () => {
  it("lays out the RFC 9562 example's timestamp, version and variant", () => {
    // RFC 9562 Appendix A.6: unix_ts_ms 0x017F22E279B0 (Tuesday, February 22, 2022 2:22:22.00 PM GMT-05:00).
    const id = uuidV7(
      0x017f22e279b0,
      0xcc3,
      Uint8Array.from([0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f]),
    );
    expect(id).toBe("017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
  });

  it("keeps only the variant bits of the first random byte", () => {
    expect(uuidV7(0, 0, new Uint8Array(8).fill(0xff))).toBe("00000000-0000-7000-bfff-ffffffffffff");
  });
});

describe("createRequestIds", () => {
  it("gives version-7 UUIDs that sort in the order they were made, also within one millisecond", () => {
    const next = createRequestIds(() => 1_795_000_000_000);
    const ids = Array.from({ length: 5000 }, next);
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("stays increasing when the clock steps back", () => {
    let now = 2_000;
    const next = createRequestIds(() => now);
    const first = next();
    now = 1_000;
    expect(next() > first).toBe(true);
  });

  it("starts each new millisecond at sequence zero", () => {
    let now = 5;
    const next = createRequestIds(() => now);
    next();
    next();
    now = 6;
    expect(next().slice(14, 18)).toBe("7000");
  });
});

describe("uuidV7Floor", () => {
  it("sorts after every id made earlier and before every id made then or later", () => {
    let now = 1_795_000_000_000;
    const next = createRequestIds(() => now);
    const before = Array.from({ length: 50 }, next);
    now += 1;
    const floor = uuidV7Floor(now);
    const after = Array.from({ length: 50 }, next);
    for (const id of before) expect(id < floor).toBe(true);
    for (const id of after) expect(id > floor).toBe(true);
  });
});
