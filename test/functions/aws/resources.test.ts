import { describe, expect, it } from "vitest";
import { UNUSED_SECRET, usableSecret } from "../../../functions/aws/resources.ts";

describe("usableSecret", () => {
  it.each<[string, string | undefined, string | undefined]>([
    ["keeps a real key", "sk-live", "sk-live"],
    [
      "treats `unused`, the documented placeholder, as no key: the provider is not enabled",
      "unused",
      undefined,
    ],
    ["treats an empty value as no key", "", undefined],
    ["treats a missing secret as no key", undefined, undefined],
    ["keeps any other placeholder, which then fails upstream as documented", "placeholder", "placeholder"],
  ])("%s", (_, value, key) => {
    expect(usableSecret(value)).toBe(key);
  });

  it("names the placeholder docs/deploy.md tells operators to set", () => {
    expect(UNUSED_SECRET).toBe("unused");
  });
});
