import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const CLI = join(import.meta.dirname, "../../../functions/cli/seed-aws.ts");
const USAGE =
  "usage: npm run seed:aws -- --config <file> --registry-table <name> --keys-table <name> [--region <region>]\n";
const dir = mkdtempSync(join(tmpdir(), "seed-aws-cli-"));
const config = join(dir, "gateway.json");
writeFileSync(config, "{}");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No case reaches AWS: each stops before the first call (no credentials or endpoint are set either).
const run = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", AWS_EC2_METADATA_DISABLED: "true", ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tables = ["--config", config, "--registry-table", "r", "--keys-table", "k"];

describe("npm run seed:aws", () => {
  it("prints its usage for --help", () => {
    expect(run(["--help"])).toEqual({ code: 0, out: USAGE, err: "" });
  });

  it.each([
    ["no options", [], USAGE],
    ["an unknown option", ["--bogus"], `Unknown option '--bogus'\n${USAGE}`],
  ])("answers %s with its usage and exit code 2", (_, args, err) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.err).toBe(err);
  });

  it.each([
    ["a space inside GATEWAY_ADMIN_KEY", { GATEWAY_ADMIN_KEY: "sk admin" }, "GATEWAY_ADMIN_KEY"],
    ["a newline inside GATEWAY_API_KEY", { GATEWAY_API_KEY: "sk-a\nb" }, "GATEWAY_API_KEY"],
  ])("refuses %s before any AWS call", (_, env, name) => {
    const r = run(tables, env);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`Invalid configuration: ${name}`);
    expect(r.err).toContain("must not contain spaces, newlines or control characters");
  });
});
