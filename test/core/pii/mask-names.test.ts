import { describe, expect, it } from "vitest";
import { distinctMasks, maskModelName } from "../../../core/pii/mask-names.ts";

describe("maskModelName", () => {
  it.each([
    ["an address", "oa/jane.doe@example.com", "oa/[EMAIL]"],
    ["a phone number after the provider's slash", "oa/+14155550199", "oa/[PHONE]"],
    ["a phone number written across a slash", "oa/tel 030/12345678", "oa/tel [PHONE]"],
    [
      "a labelled AWS secret key with slashes in it",
      "oa/aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "oa/aws_secret_access_key=[SECRET:AWS_SECRET_KEY]",
    ],
    ["nothing", "openai/gpt-4o-mini", "openai/gpt-4o-mini"],
  ])("masks %s", (_what, name, masked) => {
    expect(maskModelName(name)).toBe(masked);
  });
});

describe("distinctMasks", () => {
  it("numbers names that mask alike, past names already there, and leaves the rest out", () => {
    const masks = distinctMasks(
      ["a@example.com", "[EMAIL]", "b@example.com", "a@example.com", "plain"],
      (n) => n.replace(/\S+@example\.com/, "[EMAIL]"),
    );
    expect([...masks]).toEqual([
      ["a@example.com", "[EMAIL] 2"],
      ["b@example.com", "[EMAIL] 3"],
    ]);
  });
});
