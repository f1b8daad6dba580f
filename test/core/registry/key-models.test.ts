import { describe, expect, it } from "vitest";
import { unknownKeyModels } from "../../../core/registry/key-models.ts";

const aliases = new Set(["smart", "cheap"]);
const providers = new Set(["openai", "anthropic"]);

describe("unknownKeyModels", () => {
  it.each<[string, string[] | undefined]>([
    ["no allow-list", undefined],
    ["aliases", ["smart", "cheap"]],
    ["provider/model of known providers", ["openai/gpt-4o", "anthropic/claude-x"]],
    ["a provider model holding a slash", ["openai/ft:gpt-4o/org/x"]],
  ])("finds nothing wrong with %s", (_, models) => {
    expect(unknownKeyModels(models, aliases, providers)).toEqual([]);
  });

  it.each<[string, string[], Array<{ index: number; name: string }>]>([
    ["a misspelt alias", ["smart", "smrat"], [{ index: 1, name: "smrat" }]],
    ["an unknown provider", ["nosuch/gpt-4o"], [{ index: 0, name: "nosuch/gpt-4o" }]],
    ["a provider without a model", ["openai/"], [{ index: 0, name: "openai/" }]],
    ["an alias cased otherwise (names are exact)", ["Smart", "cheap"], [{ index: 0, name: "Smart" }]],
  ])("names %s, with its place in the list", (_, models, found) => {
    expect(unknownKeyModels(models, aliases, providers)).toEqual(found);
  });
});
