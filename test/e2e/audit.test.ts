import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditExport } from "../../core/audit/export.ts";
import { verifyChain } from "../../core/audit/verify.ts";
import type { Log, LogFields } from "../../core/log.ts";
import { containsPii } from "../../core/pii/redact-text.ts";
import { ADMIN_KEY, API_KEY, DISARMED_BREAKER, type Harness, startHarness } from "./harness.ts";

/**
 * The audit trail and redaction end to end in portable mode: records from changes, authentication
 * failures, refusals and a sensitive org's requests reach their chains through the SQLite FIFO queue and
 * the same writer handler the Lambda runs; exports verify offline; prompts are masked for orgs that ask;
 * and no log line of the whole run carries a secret or personal data from the PII corpus.
 */
const SENSITIVE = "sk-gw-sensitive-key";
const MASKED = "sk-gw-masked-key";
const CAPPED = "sk-gw-audit-capped";
const SENSITIVE_CAPPED = "sk-gw-audit-sensitive-capped";
const MASKED_CAPPED = "sk-gw-audit-masked-capped";
const SENSITIVE_EU = "sk-gw-audit-sensitive-eu";
const lines: string[] = [];
const capture: Log = {
  info: (m, f) => void lines.push(JSON.stringify({ m, ...(f as LogFields) })),
  warn: (m, f) => void lines.push(JSON.stringify({ m, ...(f as LogFields) })),
  error: (m, f) => void lines.push(JSON.stringify({ m, ...(f as LogFields) })),
};
const corpus = readFileSync(join(import.meta.dirname, "../fixtures/pii-corpus.tsv"), "utf8")
  .split("\n")
  .filter((l) => l && !l.startsWith("#"))
  .map((l) => l.split("\t") as [string, string])
  .filter(([label]) => label !== "NONE")
  .map(([, text]) => text.replaceAll("\\n", "\n"));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    breaker: DISARMED_BREAKER,
    log: capture,
    orgs: [
      { id: "sensitive", sensitive: true },
      { id: "masked", redactPrompts: true },
      { id: "capped-audit", budgets: [{ period: "day", limitUsd: 0.000001 }] },
      { id: "sensitive-capped", sensitive: true, budgets: [{ period: "day", limitUsd: 0.000001 }] },
      {
        id: "masked-capped",
        sensitive: true,
        redactPrompts: true,
        budgets: [{ period: "day", limitUsd: 0.000001 }],
      },
      { id: "sensitive-eu", sensitive: true, allowedRegions: ["eu"] },
    ],
    keys: [
      { id: "sensitive", org: "sensitive", secret: SENSITIVE },
      { id: "masked", org: "masked", secret: MASKED },
      { id: "capped-audit", org: "capped-audit", secret: CAPPED },
      { id: "sensitive-capped", org: "sensitive-capped", secret: SENSITIVE_CAPPED },
      { id: "masked-capped", org: "masked-capped", secret: MASKED_CAPPED },
      { id: "sensitive-eu", org: "sensitive-eu", secret: SENSITIVE_EU },
    ],
  });
}, 30_000);
afterAll(() => h.close());

const call = (key: string, body: Record<string, unknown>) =>
  fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "oa/gpt-4o", messages: [{ role: "user", content: "hello" }], ...body }),
  });

async function exportOf(chain: string): Promise<AuditExport> {
  expect(await h.gateway.drainAudit(10_000)).toBe(true);
  const res = await fetch(`${h.gateway.url}/admin/audit/${chain}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as AuditExport;
}

describe("prompt redaction for orgs that ask for it", () => {
  it("refuses a file, whose contents it cannot mask", async () => {
    const file = { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0xLjcK" } };
    const res = await call(MASKED, { messages: [{ role: "user", content: [file] }] });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: unknown };
    expect(error).toMatchObject({
      code: "file_not_redactable",
      param: "messages[0].content[0]",
    });
  });

  it("masks PII and secrets before the prompt leaves, and says how many in a header", async () => {
    const prompt =
      "Mail alice@example.com, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    const res = await call(MASKED, { messages: [{ role: "user", content: prompt }] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-redacted")).toBe("3");
    const sent = JSON.stringify(h.openai.requests.at(-1)?.body);
    expect(sent).toContain("[EMAIL]");
    expect(sent).not.toContain("alice@example.com");
    expect(sent).not.toContain("4111 1111 1111 1111");
  });

  it("masks stop sequences and tool definitions, which leave with the prompt", async () => {
    const tool = {
      type: "function",
      function: {
        name: "notify",
        description: "Mails erin@example.com",
        parameters: { type: "object", properties: { to: { type: "string", enum: ["frank@example.com"] } } },
      },
    };
    const res = await call(MASKED, {
      messages: [{ role: "user", content: "Hi" }],
      stop: ["grace@example.com"],
      tools: [tool],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-redacted")).toBe("3");
    const sent = h.openai.requests.at(-1)?.body as { tools: Array<{ function: { name: string } }> };
    expect(JSON.stringify(sent)).not.toMatch(/(erin|frank|grace)@example\.com/);
    expect(sent.tools[0]?.function.name).toBe("notify");
  });
});

const embed = (key: string, input: unknown, extra: Record<string, unknown> = {}) =>
  fetch(`${h.gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "oa/text-embedding-3-small", input, ...extra }),
  });

describe("embeddings for orgs that redact or audit", () => {
  it("masks the texts before they leave, and refuses token ids it cannot read", async () => {
    const res = await embed(MASKED, ["embed carol@example.com", "card 4111 1111 1111 1111"], {
      user: "dave@example.com",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-redacted")).toBe("3");
    const sent = JSON.stringify(h.openai.requests.at(-1)?.body);
    expect(sent).toContain("[EMAIL]");
    expect(sent).not.toMatch(/carol@example\.com|4111 1111|dave@example\.com/);
    const tokens = await embed(MASKED, [[1, 2, 3]]);
    expect(tokens.status).toBe(400);
    expect(((await tokens.json()) as { error: unknown }).error).toMatchObject({
      code: "tokens_not_redactable",
    });
  });

  it("records a sensitive org's embeddings request in its chain", async () => {
    expect((await embed(SENSITIVE, "an audited text")).status).toBe(200);
    await expect
      .poll(async () =>
        (await exportOf("sensitive")).entries.some(
          (e) => e.record.kind === "request" && JSON.stringify(e.record.data).includes("an audited text"),
        ),
      )
      .toBe(true);
  });
});

describe("audit chains", () => {
  it("records a sensitive org's requests and responses, redacted, in its own chain", async () => {
    h.openai.enqueueScripts({ text: "Sure, I will write to bob@example.com." });
    expect(
      (
        await call(SENSITIVE, {
          messages: [{ role: "user", content: "My SSN is 123-45-6789, mail carol@example.com" }],
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(SENSITIVE, { stream: true, messages: [{ role: "user", content: "stream please" }] }))
        .status,
    ).toBe(200);
    // The record of a stream is enqueued as its invocation ends, just after the caller's last byte.
    let requests: AuditExport["entries"] = [];
    await expect
      .poll(async () => {
        requests = (await exportOf("sensitive")).entries.filter((e) => e.record.kind === "request");
        return JSON.stringify(requests).includes("Echo: stream please");
      })
      .toBe(true);
    const text = JSON.stringify(requests);
    expect(text).toContain("[SSN]");
    expect(text).toContain("[EMAIL]");
    expect(text).not.toMatch(/123-45-6789|carol@example\.com|bob@example\.com/);
    expect(text).toContain("Echo: stream please");
  });

  it("records a sensitive org's requests refused before any provider was chosen, without their body", async () => {
    const before = (await exportOf("sensitive")).entries.filter((e) => e.record.kind === "request").length;
    const refused = [
      await call(SENSITIVE, { model: "nope/x" }),
      await call(SENSITIVE, { messages: [{ role: "robot", content: "carol@example.com" }] }),
    ];
    expect(refused.map((r) => r.status)).toEqual([404, 400]);
    const after = (await exportOf("sensitive")).entries.filter((e) => e.record.kind === "request");
    // Other tests' records may land meanwhile (a stream's is enqueued as its invocation ends).
    const added = after
      .slice(before)
      .map((e) => e.record.data)
      .filter((d) => (d as { status: number }).status >= 400);
    expect(added).toEqual([
      expect.objectContaining({ status: 404, errorCode: "model_not_found", request: null, response: null }),
      expect.objectContaining({ status: 400, errorCode: "invalid_request_body", request: null }),
    ]);
    expect(JSON.stringify(added)).not.toContain("carol@example.com");
  });

  it.each([
    ["its budget", SENSITIVE_CAPPED, "sensitive-capped", 429, "budget_exceeded"],
    // `oa` is a US provider; the org may use the EU only.
    ["its regions", SENSITIVE_EU, "sensitive-eu", 403, "residency_violation"],
  ])(
    "records a sensitive org's request refused for %s with its body, read and masked",
    async (_, key, chain, status, errorCode) => {
      const refused = await call(key, { messages: [{ role: "user", content: "mail carol@example.com" }] });
      expect(refused.status).toBe(status);
      let request: Record<string, unknown> | undefined;
      await expect
        .poll(async () => {
          const entries = (await exportOf(chain)).entries;
          request = entries.find((e) => e.record.kind === "request")?.record.data as Record<string, unknown>;
          return request !== undefined;
        })
        .toBe(true);
      expect(request).toMatchObject({ status, errorCode, response: expect.anything() });
      expect(JSON.stringify(request?.request)).toContain("[EMAIL]");
      expect(JSON.stringify(request)).not.toContain("carol@example.com");
    },
  );

  it("records a refused request of an org that redacts prompts as it would have been sent, masked", async () => {
    // A card number as a schema's enum value: only prompt redaction reads it as one (no label names it).
    const tools = [
      {
        type: "function",
        function: {
          name: "pay",
          parameters: { type: "object", properties: { card: { enum: [4111111111111111] } } },
        },
      },
    ];
    const refused = await call(MASKED_CAPPED, { tools });
    expect(refused.status).toBe(429);
    let request: unknown;
    await expect
      .poll(async () => {
        const entries = (await exportOf("masked-capped")).entries;
        request = entries.find((e) => e.record.kind === "request")?.record.data;
        return request !== undefined;
      })
      .toBe(true);
    expect(JSON.stringify(request)).toContain("[CARD]");
    expect(JSON.stringify(request)).not.toContain("4111111111111111");
  });

  it("records a file a sensitive org sent by its digest, not its contents", async () => {
    const data = `data:application/pdf;base64,${Buffer.from("%PDF-1.7 SSN 123-45-6789").toString("base64")}`;
    const file = { type: "file", file: { file_data: data, filename: "id.pdf" } };
    expect((await call(SENSITIVE, { messages: [{ role: "user", content: [file] }] })).status).toBe(200);
    let text = "";
    await expect
      .poll(async () => {
        text = JSON.stringify((await exportOf("sensitive")).entries);
        return text.includes("id.pdf");
      })
      .toBe(true);
    expect(text).toContain(`[file sha256:${createHash("sha256").update(data).digest("hex")}`);
    expect(text).not.toContain(data.slice(28));
  });

  it("records admin changes, authentication failures and budget refusals", async () => {
    const created = await fetch(`${h.gateway.url}/admin/orgs`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ id: "new-team" }),
    });
    expect(created.status).toBe(201);
    expect((await call("sk-gw-not-a-key", {})).status).toBe(401);
    expect((await call(CAPPED, {})).status).toBe(429);
    // Keys guessed at the admin API and at /metrics, and an API key brought to the admin API.
    for (const [path, key, status] of [
      ["/admin/keys", "sk-gw-guess", 401],
      ["/metrics", "sk-gw-guess", 401],
      ["/admin/keys", API_KEY, 403],
    ] as const) {
      const res = await fetch(`${h.gateway.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(status);
    }

    const system = await exportOf("system");
    const kinds = system.entries.map((e) => e.record.kind);
    expect(kinds).toContain("auth.failure");
    const endpoints = system.entries
      .filter((e) => e.record.kind === "auth.failure")
      .map((e) => (e.record.data as { endpoint: string }).endpoint);
    expect(endpoints.filter((e) => e === "/admin")).toHaveLength(2);
    expect(endpoints).toContain("/metrics");
    const change = system.entries.find(
      (e) => e.record.kind === "registry.change" && e.record.actor !== "config",
    );
    expect(change?.record.data).toMatchObject({
      action: "create",
      target: { kind: "org", id: "new-team" },
      before: null,
    });
    // Written in the store write's commit and again after it: one record.
    const newTeam = system.entries.filter(
      (e) => (e.record.data as { target?: { id?: string } }).target?.id === "new-team",
    );
    expect(newTeam).toHaveLength(1);
    expect(system.entries.some((e) => e.record.actor === "config")).toBe(true);
    // Keys declared in the config file and the operator's keys from the environment are credentials
    // appearing: each has its record, without its hash.
    const keyChanges = system.entries.filter((e) => e.record.kind === "key.change");
    const targetOf = (e: (typeof keyChanges)[number]) =>
      (e.record.data as { target: { id: string } }).target.id;
    const keyTargets = keyChanges.map(targetOf);
    expect(keyTargets).toEqual(expect.arrayContaining(["scoped", "eu", "bootstrap-api", "bootstrap-admin"]));
    expect(keyChanges.find((e) => targetOf(e) === "scoped")?.record.data).toMatchObject({
      source: "config-file",
      action: "create",
      after: { id: "scoped", org: "acme", role: "api", models: ["smart"] },
    });
    expect(JSON.stringify(keyChanges.map((e) => e.record.data))).not.toMatch(/sha256|[0-9a-f]{64}/);
    expect(JSON.stringify(system)).not.toContain("sk-gw-not-a-key");

    const capped = await exportOf("capped-audit");
    expect(capped.entries.map((e) => e.record.kind)).toContain("budget.refusal");
  });

  it("lists the chains in pages, as every admin list", async () => {
    expect(await h.gateway.drainAudit(10_000)).toBe(true);
    const list = async (query: string) => {
      const res = await fetch(`${h.gateway.url}/admin/audit${query}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { data: Array<{ chain: string }>; last_id: string; has_more: boolean };
    };
    const all = await list("");
    expect(all.data.length).toBeGreaterThan(1);
    const first = await list("?limit=1");
    expect(first).toMatchObject({ data: [all.data[0]], last_id: all.data[0]!.chain, has_more: true });
    const rest = await list(`?after=${encodeURIComponent(first.last_id)}`);
    expect(rest.data).toEqual(all.data.slice(1));
  });

  it("exports chains that verify offline, and the CLI finds a tampered entry", async () => {
    const exported = await exportOf("sensitive");
    const publicKeyPem = readFileSync(join(h.dataDir, "audit-signing-key.pem"), "utf8");
    expect(
      verifyChain({
        entries: exported.entries,
        checkpoints: exported.checkpoints,
        publicKeyPem: exported.publicKeyPem!,
      }),
    ).toMatchObject({ ok: true });
    expect(publicKeyPem).toContain("PRIVATE KEY");

    const file = join(h.dataDir, "export.json");
    const keyFile = join(h.dataDir, "public.pem");
    writeFileSync(keyFile, exported.publicKeyPem ?? "");
    writeFileSync(file, JSON.stringify(exported));
    const cli = (f: string) =>
      spawnSync(
        process.execPath,
        [
          join(import.meta.dirname, "../../functions/cli/audit-verify.ts"),
          "--file",
          f,
          "--public-key",
          keyFile,
        ],
        {
          encoding: "utf8",
        },
      );
    expect(cli(file).status).toBe(0);
    const tampered = structuredClone(exported);
    (tampered.entries[0]!.record.data as Record<string, unknown>).status = 999;
    writeFileSync(file, JSON.stringify(tampered));
    const result = cli(file);
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/seq 1: altered/);
  });
});

describe("a chain exported a page at a time", () => {
  const admin = (path: string) =>
    fetch(`${h.gateway.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  // Not spawnSync: the gateway answering the CLI runs in this process, whose event loop must go on.
  const cli = (script: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(import.meta.dirname, `../../functions/cli/${script}`), ...args],
        {
          env: { PATH: process.env.PATH ?? "", ...env },
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d));
      child.stderr.on("data", (d: Buffer) => (stderr += d));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

  it("pages through the admin API, and audit:export merges the pages into one file that verifies", async () => {
    const whole = await exportOf("sensitive");
    expect(whole.entries.length).toBeGreaterThan(4);
    expect(whole).not.toHaveProperty("next");

    const first = (await (await admin("/admin/audit/sensitive?limit=2")).json()) as AuditExport;
    expect(first).toMatchObject({ next: 3, entries: whole.entries.slice(0, 2) });
    const second = (await (await admin("/admin/audit/sensitive?fromSeq=3&limit=2")).json()) as AuditExport;
    expect(second).toMatchObject({ fromSeq: 3, next: 5, entries: whole.entries.slice(2, 4) });

    const file = join(h.dataDir, "paged-export.json");
    const keyFile = join(h.dataDir, "paged-public.pem");
    writeFileSync(keyFile, whole.publicKeyPem ?? "");
    const args = ["--url", h.gateway.url, "--chain", "sensitive", "--out", file, "--limit", "2"];
    const exported = await cli("audit-export.ts", args, { GATEWAY_ADMIN_KEY: ADMIN_KEY });
    expect(exported.stderr).toBe("");
    expect(exported.stdout).toContain(`${whole.entries.length} entries`);
    const merged = JSON.parse(readFileSync(file, "utf8")) as AuditExport;
    expect(merged.entries).toEqual(whole.entries);
    expect(merged.checkpoints).toEqual(whole.checkpoints);
    const verified = await cli("audit-verify.ts", ["--file", file, "--public-key", keyFile]);
    expect(verified.stdout).toMatch(/^VERIFIED: chain sensitive: /);
    expect(verified.status).toBe(0);

    // A page alone, with --page, proves what its checkpoints sign, and says it is a page. The first
    // entry is signed as it is appended; the next ones wait for the minute's checkpoint.
    const alone = async (p: AuditExport) => {
      writeFileSync(file, JSON.stringify(p));
      return cli("audit-verify.ts", ["--file", file, "--public-key", keyFile, "--page"]);
    };
    const one = await alone(first);
    expect(one.stdout).toMatch(/^VERIFIED: chain sensitive \(a page: seqs 1–2; the chain goes on at seq 3;/);
    expect(one.status).toBe(0);
    const two = await alone(second);
    expect(two.stdout).toMatch(/^NOTHING SIGNED: chain sensitive \(a page: seqs 3–4;/);
    expect(two.status).toBe(3);
  });

  it.each([
    ["?fromSeq=0", "fromSeq"],
    ["?fromSeq=abc", "fromSeq"],
    ["?limit=1001", "limit"],
    ["?fromSeq=100000", "fromSeq"],
    ["?after=3", "after"],
  ])("refuses %s with a 400 naming the parameter", async (query, param) => {
    const res = await admin(`/admin/audit/sensitive${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
  });

  it("audit:export reports what the gateway answered, and needs the admin key", async () => {
    const file = join(h.dataDir, "never.json");
    const args = ["--url", h.gateway.url, "--chain", "nobody", "--out", file];
    const missing = await cli("audit-export.ts", args, { GATEWAY_ADMIN_KEY: ADMIN_KEY });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("answered 404: No audit chain 'nobody'.");
    const keyless = await cli("audit-export.ts", args);
    expect(keyless.status).toBe(2);
    expect(keyless.stderr).toContain("GATEWAY_ADMIN_KEY");
  });
});

describe("no secret or personal data in any log line", () => {
  it("redacts every corpus value a caller manages to put where the gateway logs", async () => {
    // Unknown models echo the requested name into the request log line: the worst case for a leak.
    for (const text of corpus) {
      await call(API_KEY, { model: text, messages: [{ role: "user", content: text }] });
    }
    await call(API_KEY, { model: "oa/gpt-4o", user: "dave@example.com" });
    expect(await h.gateway.drainAudit(10_000)).toBe(true);
    await expect.poll(() => lines.length).toBeGreaterThan(corpus.length);
    const leaks = lines.filter((l) => containsPii(l));
    expect(leaks).toEqual([]);
    for (const secret of [
      "alice@example.com",
      "4111 1111 1111 1111",
      "AKIAIOSFODNN7EXAMPLE",
      "sk-gw-not-a-key",
      SENSITIVE,
    ]) {
      expect(lines.some((l) => l.includes(secret))).toBe(false);
    }
  }, 60_000);
});
