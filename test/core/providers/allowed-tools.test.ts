import { describe, expect, it } from "vitest";
import { chatRequest } from "../../../core/api/chat-request.ts";
import { withAllowedTools } from "../../../core/providers/allowed-tools.ts";

const fn = (name: string) => ({ type: "function", function: { name, parameters: { type: "object" } } });
const named = (name: string) => ({ type: "function", function: { name } });
const request = (tool_choice: unknown) =>
  chatRequest.parse({
    model: "m",
    messages: [{ role: "user", content: "?" }],
    tools: [fn("get_weather"), fn("get_time"), fn("send_email")],
    ...(tool_choice === undefined ? {} : { tool_choice }),
  });
const allowed = (mode: string, ...names: string[]) => ({
  type: "allowed_tools",
  allowed_tools: { mode, tools: names.map(named) },
});

describe("withAllowedTools", () => {
  it.each([
    ["no tool_choice", undefined],
    ["auto", "auto"],
    ["required", "required"],
    ["none", "none"],
    ["a named function", named("get_time")],
  ])("leaves %s as it is", (_, choice) => {
    const req = request(choice);
    expect(withAllowedTools(req)).toEqual(req);
  });

  it.each([
    ["auto", "auto"],
    ["required", "required"],
  ] as const)("offers only the allowed tools, in mode %s", (mode, expected) => {
    const out = withAllowedTools(request(allowed(mode, "send_email", "get_weather")));
    expect(out.tools?.map((t) => t.function.name)).toEqual(["get_weather", "send_email"]);
    expect(out.tool_choice).toBe(expected);
  });
});
