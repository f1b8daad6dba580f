import type OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, PROVIDERS, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const functions: OpenAI.Chat.Completions.ChatCompletionCreateParams.Function[] = [
  { name: "get_weather", description: "Weather in a city", parameters: { type: "object", properties: {} } },
];
const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = {
  role: "user",
  content: "Weather in Paris?",
};
const call = {
  toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }],
  finish: "tool_calls" as const,
};

/** OpenAI's deprecated function calling, which older applications still send, through every provider. */
describe.each(PROVIDERS)("legacy function calling through $name", ({ model, sim }) => {
  it("answers with function_call, and takes the call and its result back as history", async () => {
    sim(h).enqueueScripts(call);
    const first = await h.client.chat.completions.create({
      model,
      functions,
      function_call: "auto",
      messages: [question],
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("function_call");
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.message.function_call?.name).toBe("get_weather");
    expect(JSON.parse(choice.message.function_call?.arguments ?? "")).toEqual({ city: "Paris" });

    const second = await h.client.chat.completions.create({
      model,
      functions,
      messages: [question, choice.message, { role: "function", name: "get_weather", content: '{"temp":21}' }],
    });
    expect(second.choices[0]?.finish_reason).toBe("stop");
    expect(second.choices[0]?.message.content).toBeTruthy();
    // The provider got a tool call and its result: the same history in the form it takes.
    expect(JSON.stringify(sim(h).requests.at(-1)?.body)).toContain("temp");
  });

  it("streams the call as function_call deltas", async () => {
    sim(h).enqueueScripts(call);
    const stream = await h.client.chat.completions.create({
      model,
      functions,
      messages: [question],
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      expect(c?.delta.tool_calls).toBeUndefined();
      name += c?.delta.function_call?.name ?? "";
      args += c?.delta.function_call?.arguments ?? "";
      finish = c?.finish_reason ?? finish;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    expect(finish).toBe("function_call");
  });
});
