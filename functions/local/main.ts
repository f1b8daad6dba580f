import { resolve } from "node:path";
import { SigningKeyError } from "../../core/audit/local-signer.ts";
import { DEFAULT_CONFIG } from "../../core/config/defaults.ts";
import { ConfigError } from "../../core/config/parse.ts";
import type { GatewayConfig } from "../../core/config/types.ts";
import { redactingLog } from "../../core/pii/redacting-log.ts";
import { checkBaseUrlEnv } from "../shared/base-url-env.ts";
import { loadConfigFile } from "../shared/config-file.ts";
import { createdKeyLines, operatorKeys } from "../shared/seed.ts";
import { createConsoleLog } from "./console-log.ts";
import { DataDirInUseError } from "./data-dir-lock.ts";
import { startPortable } from "./portable.ts";

/** `npm start`: the gateway in portable mode. Reads only the environment variables documented in the README. */
const env = process.env;
// Every line passes through PII and secret redaction, the request log included.
const log = redactingLog(createConsoleLog("llm-gateway"));

/** The model the start-up hint tries: `mock/echo` where there is a mock provider, else the first alias. */
function tryModel(config: GatewayConfig): string {
  const mock = config.providers.find((p) => p.kind === "mock");
  if (mock) return `${mock.id}/echo`;
  return config.models[0]?.alias ?? "<alias or provider/model>";
}

const dataDir = resolve(env.GATEWAY_DATA_DIR || ".data");

function loadConfig(): GatewayConfig {
  return env.GATEWAY_CONFIG ? loadConfigFile(env.GATEWAY_CONFIG) : DEFAULT_CONFIG;
}

try {
  // Decimal digits only: Number() would also read `0x50`, ` 80` and `1e3` as ports.
  const port = env.PORT ? (/^\d{1,5}$/.test(env.PORT) ? Number(env.PORT) : Number.NaN) : 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError("PORT", `invalid port '${env.PORT}'`);
  // Before anything starts: a bad operator key is a configuration error, not a half-made start.
  operatorKeys(env);
  const config = loadConfig();
  checkBaseUrlEnv(config, env);
  // Installed before the start: a stop asked for while the start is under way (a SIGTERM during a long
  // SQLite busy wait) lets it finish, serves the callers who waited, and then stops gracefully, rather
  // than the default handler ending the process with those callers unanswered.
  let stopping = false;
  let started: { close(): Promise<void> } | undefined;
  const stop = () => {
    // A second Ctrl-C or SIGTERM does not wait for the requests in flight.
    if (stopping) process.exit(1);
    stopping = true;
    started?.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const gateway = await startPortable({
    config,
    env,
    dataDir,
    host: env.HOST || "127.0.0.1",
    port,
    log,
  });
  started = gateway;
  if (stopping) {
    // A stop came during the start: it is done now, so the stop goes ahead.
    stopping = false;
    stop();
  }
  const lines = [`LLM gateway (portable mode) listening on ${gateway.url}`];
  // A provider without its credential is off, and its models answer 404: say which, and why.
  const off = await gateway.providersOff();
  if (off.length > 0)
    lines.push(
      `Providers off, without a credential: ${off.map((p) => (p.apiKeyEnv ? (env[p.apiKeyEnv]?.trim() ? `${p.id} (${p.apiKeyEnv} is set, but only a variable a config-file provider names, or GATEWAY_PROVIDER_ENV lists, is read)` : `${p.id} (set ${p.apiKeyEnv})`) : `${p.id} (its config names no apiKeyEnv)`)).join(", ")}`,
    );
  lines.push(...createdKeyLines(gateway.createdKeys));
  lines.push(
    "",
    `Try: curl ${gateway.url}/v1/chat/completions -H "Authorization: Bearer $KEY" -H "content-type: application/json" -d '{"model":"${tryModel(config)}","messages":[{"role":"user","content":"hello"}]}'`,
  );
  process.stderr.write(`${lines.join("\n")}\n`);
} catch (err) {
  if (err instanceof ConfigError) {
    // One line, whatever the message quotes (a JSON parser's excerpt of the file holds its newlines).
    process.stderr.write(`Invalid configuration: ${err.message.replace(/\s*\n\s*/g, " ")}\n`);
    process.exit(2);
  }
  if (err instanceof SigningKeyError) {
    process.stderr.write(
      `Cannot start: ${err.message}. Restore it, or move it away to have a new one made (checkpoints signed before then verify only with the old key's public part).\n`,
    );
    process.exit(1);
  }
  if (err instanceof DataDirInUseError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  // node:sqlite's answer: a file that is not a database, or a damaged one.
  if (err instanceof Error && "code" in err && err.code === "ERR_SQLITE_ERROR") {
    process.stderr.write(`Cannot start: the database in ${dataDir} cannot be used: ${err.message}\n`);
    process.exit(1);
  }
  // The machine's answer to a start-up step (a port taken, an address not local, a data directory that
  // cannot be written): one line that says which, not a stack.
  const sys = systemError(err);
  if (sys) {
    process.stderr.write(`Cannot start: ${sys}\n`);
    process.exit(1);
  }
  throw err;
}

/** A Node system error (EADDRINUSE, EACCES, EROFS, ENOTDIR…) as one line; undefined for anything else. */
function systemError(err: unknown): string | undefined {
  if (!(err instanceof Error) || !("code" in err) || typeof err.code !== "string") return undefined;
  if (!/^E[A-Z]+$/.test(err.code)) return undefined;
  const e = err as Error & { code: string; syscall?: string; address?: string; port?: number; path?: string };
  const where = e.path ?? (e.address ? `${e.address}${e.port !== undefined ? `:${e.port}` : ""}` : undefined);
  return `${e.code}${e.syscall ? ` (${e.syscall}${where ? ` ${where}` : ""})` : where ? ` (${where})` : ""}`;
}
