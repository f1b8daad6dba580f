import type { ChatRequest } from "../api/chat-request.ts";
import type { ChatCompletionChunk } from "../api/chat-response.ts";
import { auditRecord, SYSTEM_CHAIN } from "../audit/records.ts";
import type { Sampler } from "../audit/sampler.ts";
import type { AuditRecord } from "../audit/types.ts";
import type { InterruptedRequest } from "../budgets/interrupted.ts";
import { redactText } from "../pii/redact-text.ts";
import type { RequestContext } from "./types.ts";

/** What a sensitive org's request and response look like in its audit chain (redacted on the way in). */
export interface RequestCapture {
  request: ChatRequest | Record<string, unknown>;
  content: string;
  /** The answer ran past what `content` keeps (captureText). */
  cut?: boolean;
  toolCalls: Array<{ name: string; arguments: string }>;
}

/** Response text kept per audited request; a longer answer is cut and marked, the chain stays bounded. */
export const CAPTURE_LIMIT = 64 * 1024;

/**
 * Text kept past the limit until the record is made, so that it is masked before it is cut: cut first,
 * a card number or key across the cut would lose its tail, and no detector would know the rest.
 */
const CAPTURE_MARGIN = 16 * 1024;

/**
 * Longer than any finding but a PEM block of a key past 8 192 bits or a JWT past 8 KiB (whose
 * signature, at its end, is never kept): where the capture itself was cut, what lies within this much
 * of the cut may be the head of a finding the cut split.
 */
const FINDING_REACH = 8 * 1024;

/**
 * The captured answer as the record keeps it: masked, then cut at the limit and marked. When the
 * capture was cut (the answer ran past the limit and the margin), a finding across that cut cannot be
 * masked: only the masked text that masking the capture without its last FINDING_REACH characters
 * agrees with is kept, which ends before any such finding.
 */
function recordedContent(capture: RequestCapture): string {
  const { content } = capture;
  if (content.length <= CAPTURE_LIMIT) return content;
  let masked = redactText(content).text;
  if (capture.cut) {
    const shorter = redactText(content.slice(0, content.length - FINDING_REACH)).text;
    let same = 0;
    while (same < shorter.length && shorter.charCodeAt(same) === masked.charCodeAt(same)) same++;
    masked = masked.slice(0, same);
  }
  return masked.length <= CAPTURE_LIMIT && !capture.cut
    ? masked
    : `${masked.slice(0, CAPTURE_LIMIT)}…[truncated]`;
}

/**
 * The audit records one finished request produces: an authentication failure (sampled), a budget or
 * residency refusal (to the org's chain), and for orgs marked `sensitive` the request and its response.
 */
export function auditRecordsFor(ctx: RequestContext): AuditRecord[] {
  const { deps, outcome: o } = ctx;
  const out: AuditRecord[] = [];
  const id = (suffix: string) => `${ctx.requestId}:${suffix}`;
  const now = ctx.startedAt;
  if (o.status === 401 && o.errorCode === "invalid_api_key") {
    const record = authFailureRecord(ctx.requestId, o.endpoint, ctx.headers, now, deps.authFailureSampler);
    if (record) out.push(record);
  }
  const org = ctx.key?.org;
  if (!org) return out;
  if (o.errorCode === "budget_exceeded" || o.errorCode === "residency_violation") {
    out.push(
      auditRecord(
        id("refusal"),
        org,
        o.errorCode === "budget_exceeded" ? "budget.refusal" : "residency.refusal",
        now,
        ctx.key!.id,
        {
          endpoint: o.endpoint,
          model: o.model ?? null,
          status: o.status,
          detail: ctx.refusal ?? null,
        },
      ),
    );
  }
  // A sensitive org's request is audited also when it was refused before its capture was made (a body
  // that is not JSON, a schema violation, an unknown model, a part it may not redact): the status and
  // the error say what happened; the body, unvalidated and unredacted, is not kept.
  const sensitive = ctx.snapshot?.orgs.get(org)?.sensitive === true;
  if (ctx.capture || sensitive) {
    out.push(
      auditRecord(id("request"), org, "request", now, ctx.key!.id, {
        endpoint: o.endpoint,
        model: o.model ?? null,
        provider: o.provider ?? null,
        providerModel: o.providerModel ?? null,
        status: o.status,
        errorCode: o.errorCode ?? null,
        request: ctx.capture?.request ?? null,
        response: ctx.capture
          ? { content: recordedContent(ctx.capture), toolCalls: ctx.capture.toolCalls }
          : null,
        usage: { input: o.promptTokens ?? null, output: o.completionTokens ?? null },
        costUsd: o.costUsd ?? null,
      }),
    );
  }
  return out;
}

/**
 * The record of a sensitive org's request that a killed gateway never finished, made at the next start
 * from its open reservation (only a budgeted request leaves one): what the request's own record would
 * have said of it that is still known. Its id is the one that record has, so a record the request had
 * enqueued itself before the kill is the one the chain keeps.
 */
export function interruptedRequestRecord(usage: InterruptedRequest): AuditRecord {
  return auditRecord(
    `${usage.requestId}:request`,
    usage.org,
    "request",
    Date.parse(usage.time),
    usage.keyId,
    {
      // The route, as a request's own record names it.
      endpoint: usage.endpoint === "embeddings" ? "/v1/embeddings" : "/v1/chat/completions",
      model: usage.alias,
      provider: null,
      providerModel: null,
      status: 500,
      errorCode: "interrupted",
      request: null,
      response: null,
      usage: { input: null, output: null },
      costUsd: usage.costUsd,
    },
  );
}

/**
 * An `auth.failure` for the system chain, sampled (at most the sampler's rate, with how many were left
 * out since the last one): a key guessed at any endpoint, the API's, the admin API's or `/metrics`.
 * Undefined when the sampler holds this one back.
 */
export function authFailureRecord(
  requestId: string,
  endpoint: string,
  headers: Record<string, string>,
  now: number,
  sampler: Sampler | undefined,
): AuditRecord | undefined {
  const sample = sampler?.take();
  if (!sample?.allowed) return undefined;
  return auditRecord(`${requestId}:auth`, SYSTEM_CHAIN, "auth.failure", now, null, {
    endpoint,
    keyPresented: headers.authorization !== undefined || headers["x-api-key"] !== undefined,
    suppressedSinceLast: sample.suppressed,
  });
}

/** Appends streamed or returned text to a capture, up to CAPTURE_LIMIT characters and the margin. */
export function captureText(capture: RequestCapture, text: string): void {
  const room = CAPTURE_LIMIT + CAPTURE_MARGIN - capture.content.length;
  if (text.length > room) capture.cut = true;
  if (room > 0) capture.content += text.length > room ? text.slice(0, room) : text;
}

/** Accumulates a streamed answer for the audit capture: text, and tool calls by index. */
export function captureChunk(capture: RequestCapture, chunk: ChatCompletionChunk): void {
  const delta = chunk.choices[0]?.delta;
  if (!delta) return;
  if (delta.content) captureText(capture, delta.content);
  // A legacy function call is the one call of its turn.
  const calls = delta.function_call
    ? [{ index: 0, function: delta.function_call }]
    : (delta.tool_calls ?? []);
  for (const t of calls) {
    let call = capture.toolCalls[t.index];
    if (!call) {
      call = { name: "", arguments: "" };
      capture.toolCalls[t.index] = call;
    }
    call.name += t.function.name ?? "";
    call.arguments += t.function.arguments;
  }
}
