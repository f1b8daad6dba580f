import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEventBridgePublisher } from "../../../core/events/eventbridge-publisher.ts";
import { type GatewayEvent, PublishError } from "../../../core/events/port.ts";
import { type EventBridgeEmulator, startEventBridgeEmulator } from "../../emulators/eventbridge.ts";

const BUS = "llm-gateway-test";
const noSleep = async () => {};

const event = (id: string, detail: Record<string, unknown> = {}): GatewayEvent => ({
  id,
  source: "llm-gateway",
  detailType: "llm.usage",
  detail: { org: "acme", ...detail },
  time: "2025-01-02T03:04:05.000Z",
});
const many = (n: number, prefix = "e") => Array.from({ length: n }, (_, i) => event(`${prefix}${i}`));

let emu: EventBridgeEmulator;
let client: EventBridgeClient;

beforeAll(async () => {
  emu = await startEventBridgeEmulator();
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(async () => {
  await emu.restart();
  emu.reset();
  // SDK retries off: the publisher's own retries are what is under test.
  client = emu.client({ maxAttempts: 1 });
});

const acceptedIds = () => emu.events.map((e) => e.detail.eventId);
const countOf = (id: string) => acceptedIds().filter((x) => x === id).length;

describe("EventBridge publisher (against the emulator)", () => {
  it("sends batches of at most 10 entries with the event mapped onto the entry", async () => {
    const events = many(25);
    await createEventBridgePublisher(client, BUS, { sleep: noSleep }).publish(events);
    expect(emu.calls).toEqual([10, 10, 5]);
    expect(acceptedIds()).toEqual(events.map((e) => e.id));
    expect(emu.events[0]).toMatchObject({
      bus: BUS,
      source: "llm-gateway",
      detailType: "llm.usage",
      detail: { org: "acme", eventId: "e0" },
      time: "2025-01-02T03:04:05.000Z",
    });
  });

  it("splits batches to stay under the 256 KB request limit", async () => {
    const big = "x".repeat(60 * 1024);
    const events = Array.from({ length: 10 }, (_, i) => event(`b${i}`, { big }));
    await createEventBridgePublisher(client, BUS, { sleep: noSleep }).publish(events);
    expect(emu.calls).toEqual([4, 4, 2]);
    expect(acceptedIds()).toEqual(events.map((e) => e.id));
  });

  it("retries entries that failed in the response, re-sending only those, once each", async () => {
    const events = many(10);
    emu.failEntries(3);
    await createEventBridgePublisher(client, BUS, { sleep: noSleep }).publish(events);
    expect(emu.calls).toEqual([10, 3]);
    for (const e of events) expect(countOf(e.id)).toBe(1);
    expect(acceptedIds().slice(-3)).toEqual(["e0", "e1", "e2"]);
  });

  it.each([
    [500, "InternalException"],
    [400, "ThrottlingException"],
  ])("retries whole-call failures (%i %s)", async (status) => {
    emu.failCalls(2, status);
    const events = many(12);
    await createEventBridgePublisher(client, BUS, { sleep: noSleep }).publish(events);
    expect(emu.calls).toEqual([10, 2, 10, 2]);
    expect(acceptedIds().sort()).toEqual(events.map((e) => e.id).sort());
  });

  it("survives the emulator going down mid-run: retries after restart, nothing lost", async () => {
    let sent = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        if (++sent === 1) await emu.stop();
        return out;
      },
      { step: "finalizeRequest", name: "stopEmulatorAfterFirstCall" },
    );
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      if (sleeps.length === 2) await emu.restart();
    };
    const events = many(25);
    await createEventBridgePublisher(client, BUS, { sleep }).publish(events);
    expect(sleeps).toHaveLength(2);
    for (const e of events) expect(countOf(e.id)).toBe(1);
    expect(emu.calls).toEqual([10, 10, 5]);
  });

  it("gives up after maxAttempts with a PublishError naming every failed id", async () => {
    emu.failCalls(100, 500);
    const events = many(12);
    const err = await createEventBridgePublisher(client, BUS, { maxAttempts: 3, sleep: noSleep })
      .publish(events)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).failedIds.sort()).toEqual(events.map((e) => e.id).sort());
    expect((err as PublishError).message).toMatch(/e11/);
    expect(emu.calls).toEqual([10, 2, 10, 2, 10, 2]);
  });

  it("gives up once another round would start past its deadline, holding the invocation no longer", async () => {
    emu.failCalls(100, 500);
    let clock = 0;
    // Each round's call takes 6 s of the clock: a third would start past 10 s.
    const slow = {
      send: async (c: unknown) => {
        clock += 6_000;
        return client.send(c as never);
      },
    };
    const err = await createEventBridgePublisher(slow as never, BUS, {
      sleep: noSleep,
      now: () => clock,
      deadlineMs: 10_000,
    })
      .publish(many(1))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).message).toMatch(/after 2 attempts/);
    expect(emu.calls).toEqual([1, 1]);
  });

  it("does not retry entries the service rejects permanently, and still sends the rest", async () => {
    const bad = { ...event("bad"), source: "" };
    const err = await createEventBridgePublisher(client, BUS, { sleep: noSleep })
      .publish([event("ok1"), bad, event("ok2")])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).failedIds).toEqual(["bad"]);
    expect((err as PublishError).message).toMatch(/InvalidArgument/);
    expect(emu.calls).toEqual([3]);
    expect(acceptedIds()).toEqual(["ok1", "ok2"]);
  });

  it("reports an entry over 256 KB without sending it", async () => {
    const huge = event("huge", { blob: "x".repeat(257 * 1024) });
    const err = await createEventBridgePublisher(client, BUS, { sleep: noSleep })
      .publish([huge, event("small")])
      .catch((e: unknown) => e);
    expect((err as PublishError).failedIds).toEqual(["huge"]);
    expect(acceptedIds()).toEqual(["small"]);
  });

  it("refuses an entry of exactly 256 KB, which PutEvents does not take (its size must be less)", async () => {
    // 14 bytes of Time, the source, the detail type, then the detail JSON with its eventId.
    const sized = (id: string, bytes: number) => {
      const bare = JSON.stringify({ org: "acme", blob: "", eventId: id });
      return event(id, {
        blob: "x".repeat(bytes - 14 - "llm-gateway".length - "llm.usage".length - bare.length),
      });
    };
    const err = await createEventBridgePublisher(client, BUS, { sleep: noSleep })
      .publish([sized("at-limit", 256 * 1024), sized("just-under", 256 * 1024 - 1)])
      .catch((e: unknown) => e);
    expect((err as PublishError).failedIds).toEqual(["at-limit"]);
    expect(acceptedIds()).toEqual(["just-under"]);
    // Not sent at all; and two entries that total exactly 256 KB go in two calls.
    expect(emu.calls).toEqual([1]);
    await createEventBridgePublisher(client, BUS, { sleep: noSleep }).publish([
      sized("half-a", 128 * 1024),
      sized("half-b", 128 * 1024),
    ]);
    expect(emu.calls).toEqual([1, 1, 1]);
  });

  it("keeps an eventId already in the detail", async () => {
    await createEventBridgePublisher(client, BUS).publish([event("outer", { eventId: "inner" })]);
    expect(acceptedIds()).toEqual(["inner"]);
  });
});

describe("EventBridge emulator validation", () => {
  it("rejects more than 10 entries with ValidationException, like the service", async () => {
    const { PutEventsCommand } = await import("@aws-sdk/client-eventbridge");
    const Entries = Array.from({ length: 11 }, () => ({ Source: "s", DetailType: "d", Detail: "{}" }));
    await expect(client.send(new PutEventsCommand({ Entries }))).rejects.toMatchObject({
      name: "ValidationException",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("fails entries missing Source/DetailType/Detail or with a malformed Detail, individually", async () => {
    const { PutEventsCommand } = await import("@aws-sdk/client-eventbridge");
    const res = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: "s", DetailType: "d", Detail: "{}" },
          { DetailType: "d", Detail: "{}" },
          { Source: "s", DetailType: "d", Detail: "not json" },
        ],
      }),
    );
    expect(res.FailedEntryCount).toBe(2);
    expect(res.Entries?.[0]?.EventId).toBeTruthy();
    expect(res.Entries?.[1]?.ErrorCode).toBe("InvalidArgument");
    expect(res.Entries?.[2]?.ErrorCode).toBe("MalformedDetail");
  });
});
