import { describe, expect, it } from "vitest";
import { bufferedSink, createConsoleLog, type LogSink } from "../../../functions/local/console-log.ts";

function recorder() {
  const writes: Array<["out" | "err", string]> = [];
  const sink: LogSink = {
    out: (t) => void writes.push(["out", t]),
    err: (t) => void writes.push(["err", t]),
  };
  return { sink, writes };
}
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createConsoleLog", () => {
  it("writes one JSON object per line, errors to the error stream", () => {
    const { sink, writes } = recorder();
    const log = createConsoleLog("llm-gateway", sink);
    log.info("request", { status: 200, model: "smart" });
    log.error("accounting failed", { requestId: "r1" });
    expect(writes.map(([to]) => to)).toEqual(["out", "err"]);
    const [info, error] = writes.map(([, t]) => JSON.parse(t));
    expect(info).toMatchObject({ level: "INFO", message: "request", service: "llm-gateway", status: 200 });
    expect(error).toMatchObject({ level: "ERROR", message: "accounting failed", requestId: "r1" });
    expect(writes.every(([, t]) => t.endsWith("}\n") && t.indexOf("\n") === t.length - 1)).toBe(true);
  });
});

describe("bufferedSink", () => {
  it("sends the lines of one window in one write", async () => {
    const { sink, writes } = recorder();
    const buffered = bufferedSink(sink, 5);
    buffered.out("a\n");
    buffered.out("b\n");
    expect(writes).toEqual([]);
    await wait(20);
    expect(writes).toEqual([["out", "a\nb\n"]]);
  });

  it("lets waiting lines out before an error line, keeping their order", () => {
    const { sink, writes } = recorder();
    const buffered = bufferedSink(sink, 60_000);
    buffered.out("a\n");
    buffered.err("boom\n");
    expect(writes).toEqual([
      ["out", "a\n"],
      ["err", "boom\n"],
    ]);
  });

  it("writes a warning at once, after the info lines waiting before it", () => {
    const { sink, writes } = recorder();
    const log = createConsoleLog("llm-gateway", bufferedSink(sink, 60_000));
    log.info("request");
    log.warn("budget threshold crossed", { threshold: 80 });
    expect(writes.map(([to, t]) => [to, JSON.parse(t).message])).toEqual([
      ["out", "request"],
      ["out", "budget threshold crossed"],
    ]);
  });

  it("writes at once when 64 KiB wait, and on flush()", () => {
    const { sink, writes } = recorder();
    const buffered = bufferedSink(sink, 60_000);
    const big = `${"x".repeat(64 * 1024)}\n`;
    buffered.out(big);
    expect(writes).toEqual([["out", big]]);
    buffered.out("tail\n");
    buffered.flush();
    expect(writes.at(-1)).toEqual(["out", "tail\n"]);
  });
});
