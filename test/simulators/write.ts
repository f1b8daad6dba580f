/** Response writers that apply the writer faults (invalid-json, reset-mid, hang-mid, error-mid) and stream realism. */
import type { IncomingHttpHeaders } from "node:http";
import type { Ctx } from "./server.ts";

export interface SseEvent {
  /** `event:` line (Anthropic); omitted for data-only streams. */
  event?: string;
  /** The `data:` payload (already serialized). */
  data: string;
}

/** Non-stream JSON response. Faults apply only to 2xx responses. */
export function sendJson(
  ctx: Ctx,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
  contentType = "application/json",
): void {
  const { res, fault } = ctx;
  const full = Buffer.from(JSON.stringify(payload, null, 2), "utf8");
  const ok = status >= 200 && status < 300;
  if (ok && fault?.kind === "invalid-json") {
    const truncated = full.subarray(0, Math.max(1, Math.floor(full.length / 2)));
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": String(truncated.length),
      ...headers,
    });
    res.end(truncated);
    return;
  }
  res.writeHead(status, { "content-type": contentType, "content-length": String(full.length), ...headers });
  if (ok && (fault?.kind === "reset-mid" || fault?.kind === "hang-mid")) {
    const kind = fault.kind;
    res.write(full.subarray(0, Math.floor(full.length / 2)), () => {
      if (kind === "reset-mid") res.socket?.destroy();
    });
    return;
  }
  res.end(full);
}

function serialize(ev: SseEvent, eol: string): string {
  return `${ev.event === undefined ? "" : `event: ${ev.event}${eol}`}data: ${ev.data}${eol}${eol}`;
}

/** Index just past the first byte of the first multi-byte UTF-8 character, or -1. */
function midCharSplit(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] ?? 0;
    if (b >= 0xc0) return i + 1;
  }
  return -1;
}

/**
 * SSE stream: one socket write per event, setImmediate gaps, the first event holding a multi-byte
 * character is written in two pieces split inside that character (with a short pause between them).
 */
export function writeStream(
  ctx: Ctx,
  events: SseEvent[],
  headers: Record<string, string> = {},
  contentType = "text/event-stream; charset=utf-8",
): void {
  const { res, fault, opts } = ctx;
  const eol = opts.crlf ? "\r\n" : "\n";
  const list = [...events];
  const first = list[0];
  if (fault?.kind === "invalid-json" && first) {
    list.unshift({ ...first, data: first.data.slice(0, Math.max(1, Math.floor(first.data.length / 2))) });
  }
  const after =
    fault?.kind === "reset-mid" || fault?.kind === "hang-mid" || fault?.kind === "error-mid"
      ? fault.afterEvents
      : Infinity;
  const stopAfter = after < 0 ? list.length + after : after;
  const slow = fault?.kind === "slow-start" ? fault : undefined;
  const begin = (): void => {
    if (res.destroyed) return;
    res.writeHead(200, {
      "content-type": contentType,
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...headers,
    });
    res.flushHeaders();
    if (slow) ctx.later(next, slow.firstEventMs);
    else setImmediate(next);
  };
  let splitDone = false;
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (i >= stopAfter) {
      if (fault?.kind === "reset-mid") res.socket?.destroy();
      // The provider reports its failure in band, then ends the response.
      if (fault?.kind === "error-mid") {
        const event = ctx.streamError(fault.status);
        const echoed = fault.echoCredential
          ? echoingCredential(event, ctx.req.headers, fault.echoCredential)
          : event;
        res.end(serialize(echoed, eol));
      }
      return; // hang-mid: stay silent until the client gives up or close()
    }
    const ev = list[i++];
    if (ev === undefined) {
      res.end();
      return;
    }
    const buf = Buffer.from(serialize(ev, eol), "utf8");
    const cut = splitDone ? -1 : midCharSplit(buf);
    if (cut > 0) {
      splitDone = true;
      res.write(buf.subarray(0, cut));
      ctx.later(() => {
        if (res.destroyed) return;
        res.write(buf.subarray(cut));
        setImmediate(next);
      }, 5);
      return;
    }
    res.write(buf);
    setImmediate(next);
  };
  if (slow?.headersMs) ctx.later(begin, slow.headersMs);
  else begin();
}

/** An in-stream error event that quotes the request's credential header, in its message or as its type. */
function echoingCredential(
  event: SseEvent,
  headers: IncomingHttpHeaders,
  where: "message" | "type",
): SseEvent {
  const credential = String(headers.authorization ?? headers["x-api-key"] ?? headers["x-goog-api-key"] ?? "");
  const data = JSON.parse(event.data) as { error: { message: string; type?: string; status?: string } };
  // The error's kind: Gemini names it `status`, OpenAI and Anthropic `type`.
  if (where === "type" && data.error.status !== undefined) data.error.status = `T_${credential}`;
  else if (where === "type") data.error.type = `t-${credential}`;
  else data.error.message += ` (the request said: ${credential})`;
  return { ...event, data: JSON.stringify(data) };
}
