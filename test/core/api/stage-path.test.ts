import { describe, expect, it } from "vitest";
import { stagePath } from "../../../core/api/stage-path.ts";

describe("the path below the API's stage", () => {
  it.each([
    [
      "a literal route through the stage URL",
      "/v1/chat/completions",
      "/v1/chat/completions",
      "/v1/chat/completions",
    ],
    [
      "a literal route through a base path",
      "/llm/v1/chat/completions",
      "/v1/chat/completions",
      "/v1/chat/completions",
    ],
    [
      "a greedy route through a base path",
      "/llm/v1/models/openai%2Fgpt-4o",
      "/v1/models/{model+}",
      "/v1/models/openai%2Fgpt-4o",
    ],
    [
      "the admin proxy through a base path",
      "/team/llm/admin/orgs/acme",
      "/admin/{proxy+}",
      "/admin/orgs/acme",
    ],
    ["the admin proxy through the stage URL", "/admin/orgs", "/admin/{proxy+}", "/admin/orgs"],
    ["portable mode's catch-all resource", "/v1/embeddings", "/{proxy+}", "/v1/embeddings"],
    [
      "a route with a trailing slash through a base path",
      "/llm/v1/chat/completions/",
      "/v1/chat/completions",
      "/v1/chat/completions/",
    ],
    ["an event without a resource", "/llm/v1/models", "", "/llm/v1/models"],
    ["a path the resource is not in", "/elsewhere", "/v1/models", "/elsewhere"],
  ])("takes %s as the route's path", (_, path, resource, expected) => {
    expect(stagePath({ path, resource })).toBe(expected);
  });

  it("takes an empty path as the root", () => {
    expect(stagePath({ path: "", resource: "/{proxy+}" })).toBe("/");
  });
});
