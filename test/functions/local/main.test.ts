import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { DATABASE_FILE, LOCK_FILE } from "../../../functions/local/data-dir-lock.ts";

const MAIN = join(import.meta.dirname, "../../../functions/local/main.ts");
const running: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const p of running.splice(0)) p.kill("SIGTERM");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "gw-main-"));
  dirs.push(d);
  return d;
};

/** Starts `npm start`'s entry point and resolves with what it printed once it listens (or exits). */
function start(
  env: Record<string, string>,
): Promise<{ output: string; code: number | null; url?: string; printed: () => string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? "", PORT: "0", ...env },
    });
    running.push(child);
    let output = "";
    const onData = (d: Buffer) => {
      output += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url && output.includes("Try:")) resolve({ output, code: null, url, printed: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => resolve({ output, code, printed: () => output }));
  });
}

async function freePort(): Promise<number> {
  const free = createServer();
  await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
  const { port } = free.address() as AddressInfo;
  await new Promise((r) => free.close(r));
  return port;
}

/** Resolves once something accepts connections on `port`. */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Sends `raw` on a fresh connection and resolves with all the server answered before it closed. */
function rawAnswer(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(raw));
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
    });
    socket.once("error", reject);
    socket.once("close", () => (got ? resolve(got) : reject(new Error("closed without an answer"))));
  });
}

describe("npm start (portable mode entry point)", () => {
  it("creates the database and prints an API key and an admin key once, on the first start only", async () => {
    const dataDir = tempDir();
    const first = await start({ GATEWAY_DATA_DIR: dataDir });
    const key = /API key \(org default\): (sk-gw-\S+)/.exec(first.output)?.[1];
    expect(key).toBeDefined();
    expect(first.output).toMatch(/admin key: sk-gw-\S+/);

    const res = await fetch(`${first.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "first curl" }] }),
    });
    expect(
      ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message
        .content,
    ).toBe("Echo: first curl");
    // A stopped gateway gives its data directory up: the next start must find it free.
    const stopped = running.pop()!;
    stopped.kill("SIGTERM");
    await new Promise((r) => stopped.once("exit", r));

    const second = await start({ GATEWAY_DATA_DIR: dataDir });
    expect(second.url).toBeDefined();
    expect(second.output).not.toContain("sk-gw-");
  });

  it("warns at start of an org allowed only a region no provider is in, and starts", async () => {
    const dir = tempDir();
    const config = join(dir, "gateway.json");
    writeFileSync(
      config,
      JSON.stringify({
        providers: [{ id: "m", kind: "mock", region: "eu" }],
        orgs: [{ id: "acme", allowedRegions: ["EU"] }],
      }),
    );
    const started = await start({ GATEWAY_DATA_DIR: join(dir, "data"), GATEWAY_CONFIG: config });
    expect(started.url).toBeDefined();
    // Log lines are written in batches, after the banner.
    const warning = () =>
      started
        .printed()
        .split("\n")
        .find((l) => l.includes("allows a region no provider"));
    await expect.poll(warning).toBeDefined();
    expect(JSON.parse(warning()!)).toMatchObject({ level: "WARN", org: "acme", region: "EU" });
  });

  it("suggests a model the configuration has in its start-up hint", async () => {
    const dir = tempDir();
    const config = join(dir, "gateway.json");
    writeFileSync(
      config,
      JSON.stringify({
        providers: [{ id: "oa", kind: "openai", apiKeyEnv: "OA_KEY" }],
        models: [{ alias: "smart", targets: [{ provider: "oa", model: "gpt-4o" }] }],
      }),
    );
    const started = await start({ GATEWAY_DATA_DIR: join(dir, "data"), GATEWAY_CONFIG: config });
    expect(started.output).toContain(`"model":"smart"`);
    expect(started.output).not.toContain("mock/echo");
  });

  it("refuses a second gateway on a data directory in use, and says which process holds it", async () => {
    const dataDir = tempDir();
    const first = await start({ GATEWAY_DATA_DIR: dataDir });
    expect(first.url).toBeDefined();
    const second = await start({ GATEWAY_DATA_DIR: dataDir });
    expect(second.code).toBe(1);
    expect(second.output).toContain(`Another gateway (pid ${running[0]?.pid}) is using the data directory`);
    // The first one still serves.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  });

  it("uses GATEWAY_API_KEY instead of generating one, and never prints it", async () => {
    const out = await start({
      GATEWAY_DATA_DIR: tempDir(),
      GATEWAY_API_KEY: "my-scripted-key",
      GATEWAY_ADMIN_KEY: "my-admin-key",
    });
    expect(out.output).not.toContain("my-scripted-key");
    expect(out.output).not.toContain("sk-gw-");
    const res = await fetch(`${out.url}/v1/models`, { headers: { authorization: "Bearer my-scripted-key" } });
    expect(res.status).toBe(200);
  });

  it("stops with the JSON path of a bad config field", async () => {
    const dir = tempDir();
    const file = join(dir, "gateway.json");
    writeFileSync(
      file,
      JSON.stringify({
        providers: [{ id: "oa", kind: "openai" }],
        models: [{ alias: "x", targets: [{ provider: "nope", model: "m" }] }],
      }),
    );
    const out = await start({ GATEWAY_DATA_DIR: dir, GATEWAY_CONFIG: file });
    expect(out.code).toBe(2);
    expect(out.output).toContain("models[0].targets[0].provider");
  });

  it("stops on a config file that is not JSON", async () => {
    const dir = tempDir();
    const file = join(dir, "gateway.json");
    writeFileSync(file, "// a comment\n{ not json");
    const out = await start({ GATEWAY_DATA_DIR: dir, GATEWAY_CONFIG: file });
    expect(out.code).toBe(2);
    expect(out.output).toContain("not valid JSON");
    // One line, though the parser's message quotes the file with its newline.
    expect(
      out.output
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("Invalid configuration")),
    ).toHaveLength(1);
    expect(out.output).not.toContain("comment\n");
  });

  it("says in one line that the port is taken, having made nothing, and shows the keys at the next start that listens", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = String((busy.address() as AddressInfo).port);
    const dataDir = tempDir();
    try {
      const failed = await start({ GATEWAY_DATA_DIR: dataDir, PORT: port });
      expect(failed.code).toBe(1);
      expect(failed.output).toMatch(/^Cannot start: EADDRINUSE \(listen 127\.0\.0\.1:\d+\)$/m);
      expect(failed.output).not.toMatch(/^\s+at /m);
      // The port is taken before anything is made: no database, and no audit signing key that the next
      // start would take for a deliberate rotation of a lost one.
      expect(readdirSync(dataDir).filter((f) => f !== LOCK_FILE && f !== `${DATABASE_FILE}.lock`)).toEqual(
        [],
      );
    } finally {
      busy.close();
    }
    const next = await start({ GATEWAY_DATA_DIR: dataDir });
    expect(next.output).toMatch(/API key \(org default\): sk-gw-\S+/);
    expect(next.output).toMatch(/admin key: sk-gw-\S+/);
  });

  it("answers the callers who came while a start was held up and then failed: 500, in the envelope", async () => {
    const dataDir = tempDir();
    // Another process holds the database's lock past the busy timeout: the start waits 5 s, then fails.
    const holder = new DatabaseSync(join(dataDir, "gateway.sqlite"));
    holder.exec("CREATE TABLE held (x); BEGIN EXCLUSIVE; INSERT INTO held VALUES (1);");
    try {
      const port = await freePort();
      const started = start({ GATEWAY_DATA_DIR: dataDir, PORT: String(port) });
      let answer: string | undefined;
      for (let i = 0; i < 50 && answer === undefined; i++) {
        answer = await rawAnswer(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").catch(
          async () => {
            await new Promise((r) => setTimeout(r, 100));
            return undefined;
          },
        );
      }
      expect(answer).toMatch(/^HTTP\/1.1 500 /);
      expect(answer).toMatch(/\r\nx-request-id: \S+\r\n/i);
      expect(answer).toContain('"code":"internal_error"');
      expect((await started).code).toBe(1);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  }, 20_000);

  it("stops gracefully on a SIGTERM that comes during the start, once it has served the callers who waited", async () => {
    const dataDir = tempDir();
    // Another process holds the write lock for a while: the start waits for it, callers wait for the start.
    const holder = new DatabaseSync(join(dataDir, "gateway.sqlite"));
    holder.exec(
      "PRAGMA journal_mode = WAL; CREATE TABLE held (x); BEGIN EXCLUSIVE; INSERT INTO held VALUES (1);",
    );
    let held = true;
    try {
      const port = await freePort();
      const child = spawn(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH ?? "", PORT: String(port), GATEWAY_DATA_DIR: dataDir },
      });
      running.push(child);
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      await waitForPort(port);
      const answer = rawAnswer(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await new Promise((r) => setTimeout(r, 200));
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 300));
      holder.exec("ROLLBACK");
      held = false;
      expect(await answer).toMatch(/^HTTP\/1.1 200 /);
      expect(await exited).toBe(0);
    } finally {
      if (held) holder.exec("ROLLBACK");
      holder.close();
    }
  }, 20_000);

  it("stops with a clear message when the API key and the admin key are the same", async () => {
    const out = await start({
      GATEWAY_DATA_DIR: tempDir(),
      GATEWAY_API_KEY: "same",
      GATEWAY_ADMIN_KEY: "same",
    });
    expect(out.code).toBe(2);
    expect(out.output).toContain("GATEWAY_ADMIN_KEY: must differ from GATEWAY_API_KEY");
  });

  it("names the providers that are off, and the variable each waits for, in its banner", async () => {
    const out = await start({ GATEWAY_DATA_DIR: tempDir(), ANTHROPIC_API_KEY: "k", GEMINI_API_KEY: " " });
    expect(out.output).toContain(
      "Providers off, without a credential: openai (set OPENAI_API_KEY), gemini (set GEMINI_API_KEY)\n",
    );
  });

  it("says a provider made through the admin API waits for its variable to be allowed, not set, when it is set", async () => {
    const dir = tempDir();
    const admin = "sk-admin-banner-test-key";
    const first = await start({ GATEWAY_DATA_DIR: dir, GATEWAY_ADMIN_KEY: admin });
    const made = await fetch(`${first.url}/admin/providers`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ id: "extra", kind: "openai", apiKeyEnv: "EXTRA_PROVIDER_KEY" }),
    });
    expect(made.status).toBe(201);
    const child = running.at(-1)!;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    const again = await start({ GATEWAY_DATA_DIR: dir, GATEWAY_ADMIN_KEY: admin, EXTRA_PROVIDER_KEY: "k" });
    expect(again.output).toContain(
      "extra (EXTRA_PROVIDER_KEY is set, but only a variable a config-file provider",
    );
  });

  it("takes a bootstrap key read from a file with its newline as the key without it", async () => {
    const out = await start({
      GATEWAY_DATA_DIR: tempDir(),
      GATEWAY_API_KEY: "sk-from-a-secret-file\n",
      GATEWAY_ADMIN_KEY: "  sk-admin-from-a-secret-file\n",
    });
    const admin = await fetch(`${out.url}/admin/keys`, {
      headers: { authorization: "Bearer sk-admin-from-a-secret-file" },
    });
    expect(admin.status).toBe(200);
    const api = await fetch(`${out.url}/v1/models`, {
      headers: { authorization: "Bearer sk-from-a-secret-file" },
    });
    expect(api.status).toBe(200);
  });

  it.each([
    ["PORT in hexadecimal", { PORT: "0x50" }, "PORT: invalid port '0x50'"],
    ["PORT with a space", { PORT: " 80" }, "PORT: invalid port ' 80'"],
    ["PORT in exponent notation", { PORT: "1e3" }, "PORT: invalid port '1e3'"],
    [
      "a provider base URL from the environment that is not one",
      { OPENAI_BASE_URL: "ftp://127.0.0.1/v1", OPENAI_API_KEY: "k" },
      "OPENAI_BASE_URL: must be an http(s) URL (lowercase scheme) with a host and no credentials in it (user:password@: use apiKeyEnv or headers), in printable ASCII (no spaces or invisible characters; percent-encode the rest, a host as punycode), like providers[].baseUrl (provider 'openai')",
    ],
    [
      "a provider base URL from the environment with a no-break space before it, which a URL parser would drop",
      { OPENAI_BASE_URL: "\u00a0http://127.0.0.1:9/v1", OPENAI_API_KEY: "k" },
      "OPENAI_BASE_URL: must be an http(s) URL (lowercase scheme) with a host and no credentials in it (user:password@: use apiKeyEnv or headers), in printable ASCII (no spaces or invisible characters; percent-encode the rest, a host as punycode), like providers[].baseUrl (provider 'openai')",
    ],
    [
      "a provider base URL from the environment whose port is past 65535",
      { OPENAI_BASE_URL: "http://127.0.0.1:99999/v1", OPENAI_API_KEY: "k" },
      "OPENAI_BASE_URL: must be a URL that parses: a host a URL can hold (IPv4 parts up to 255) and a port up to 65535, like providers[].baseUrl (provider 'openai')",
    ],
    [
      "a bootstrap key with a space inside, which no Bearer header can carry",
      { GATEWAY_ADMIN_KEY: "sk admin" },
      "GATEWAY_ADMIN_KEY: must not contain spaces, newlines or control characters",
    ],
  ])("stops with exit code 2 on %s", async (_, env, message) => {
    const out = await start({ GATEWAY_DATA_DIR: tempDir(), ...env });
    expect(out.code).toBe(2);
    expect(out.output).toContain(`Invalid configuration: ${message}`);
  });

  it("says in one line that a data directory's database is not one, without a stack", async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, "gateway.sqlite"), Buffer.alloc(8192, 7));
    const out = await start({ GATEWAY_DATA_DIR: dataDir });
    expect(out.code).toBe(1);
    expect(out.output).toBe(
      `Cannot start: the database in ${dataDir} cannot be used: file is not a database\n`,
    );
  });

  it.each([
    ["garbage", "not a key", "it is not a PEM private key"],
    [
      "an RSA key",
      generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }),
      "it is not an EC P-256 private key",
    ],
  ])("says in one line that the audit signing key is %s, without a stack", async (_, pem, reason) => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, "audit-signing-key.pem"), pem);
    const out = await start({ GATEWAY_DATA_DIR: dataDir });
    expect(out.code).toBe(1);
    expect(out.output.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Cannot start: the audit signing key \\S+audit-signing-key\\.pem cannot be used: ${reason}\\. Restore it`,
        ),
      ),
    ]);
  });

  it("writes an IPv6 listen address in brackets, as a URL needs it", async () => {
    const out = await start({ GATEWAY_DATA_DIR: tempDir(), HOST: "::1" });
    expect(out.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await fetch(`${out.url}/healthz`)).status).toBe(200);
  });
});
