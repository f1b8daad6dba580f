import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../../functions/shared/config-file.ts";

const dir = mkdtempSync(join(tmpdir(), "config-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadConfigFile", () => {
  it("reads a file that starts with a byte-order mark, as Windows editors write it", () => {
    const file = join(dir, "bom.json");
    writeFileSync(file, `\uFEFF${JSON.stringify({ orgs: [{ id: "acme" }] })}`);
    expect(loadConfigFile(file).orgs.map((o) => o.id)).toEqual(["acme"]);
  });

  it.each([
    ["a file that is not there", "missing.json", "ENOENT"],
    ["a directory", "a-directory", "EISDIR"],
  ])("says why it cannot read %s", (_, name, code) => {
    mkdirSync(join(dir, "a-directory"), { recursive: true });
    expect(() => loadConfigFile(join(dir, name))).toThrow(
      `cannot read config file ${join(dir, name)} (${code})`,
    );
  });
});
