import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../core/config/parse.ts";
import { createSqliteKeyStore } from "../../../core/keys/sqlite-store.ts";
import { silentLog } from "../../../core/log.ts";
import { createSqliteRegistryStore } from "../../../core/registry/sqlite-store.ts";
import { openDatabase } from "../../../core/storage/sqlite.ts";
import { createGatewayDeps } from "../../../functions/shared/gateway-deps.ts";

const [provider] = parseConfig({ providers: [{ id: "oa", kind: "openai", apiKeyEnv: "OA_KEY" }] }).providers;

async function credentialWith(value: string) {
  const db = openDatabase(":memory:");
  const { deps, close } = createGatewayDeps({
    registry: createSqliteRegistryStore(db),
    keys: createSqliteKeyStore(db),
    env: { OA_KEY: value },
    region: "local",
    maxBodyBytes: 1024,
    log: silentLog,
  });
  await close();
  return deps.credential(provider!);
}

describe("a provider's credential from the environment", () => {
  it.each([
    ["blank, which switches nothing on", " ", undefined],
    ["empty", "", undefined],
    ["read from a file with its newline, without it", "sk-provider\n", "sk-provider"],
  ])("is %s", async (_, value, expected) => {
    expect(await credentialWith(value)).toBe(expected);
  });
});
