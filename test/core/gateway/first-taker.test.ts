import { describe, expect, it } from "vitest";
import { badRequest, GatewayError, unsupportedParameter } from "../../../core/api/errors.ts";
import { firstTaker, mappedFor } from "../../../core/gateway/first-taker.ts";
import { DEFAULT_TIMEOUTS, type ResolvedTarget } from "../../../core/routing/resolve.ts";

const target = (id: string): ResolvedTarget => ({
  provider: { id, kind: "mock", region: "global", models: [] },
  model: "m",
  region: "global",
  weight: undefined,
  timeouts: DEFAULT_TIMEOUTS,
});
const [a, b, c] = [target("a"), target("b"), target("c")];

/** How each target maps: a value it takes the request as, or the refusal it throws. */
type Outcome = string | "cannot" | "no-embeddings" | "bad-request";
const mapper = (outcomes: Record<string, Outcome>) => (t: ResolvedTarget) => {
  const o = outcomes[t.provider.id]!;
  if (o === "cannot") throw unsupportedParameter(t.provider.id, "seed");
  if (o === "no-embeddings")
    throw badRequest(
      `Provider '${t.provider.id}' does not offer embeddings.`,
      "model",
      "embeddings_not_supported",
    );
  if (o === "bad-request") throw badRequest("Tool call arguments must be a JSON object.", "messages");
  return o;
};
const open =
  (...ids: string[]) =>
  (t: ResolvedTarget) =>
    !ids.includes(t.provider.id);
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.code : "not a GatewayError";
  }
  return "no refusal";
};

describe("firstTaker", () => {
  it.each<[string, Record<string, Outcome>, (t: ResolvedTarget) => boolean, ResolvedTarget, string]>([
    ["the first target when it takes the request", { a: "A", b: "B" }, open(), a, "A"],
    ["the next target past one that cannot take a parameter", { a: "cannot", b: "B" }, open(), b, "B"],
    ["the next target past one without embeddings", { a: "no-embeddings", b: "B" }, open(), b, "B"],
    ["an admitted target before one behind an open circuit", { a: "A", b: "B" }, open("a"), b, "B"],
    [
      "a target past an open circuit whose refusal the attempts would skip",
      { a: "bad-request", b: "B" },
      open("a"),
      b,
      "B",
    ],
    [
      "a target behind an open circuit when none is admitted",
      { a: "cannot", b: "B", c: "C" },
      open("b", "c"),
      b,
      "B",
    ],
  ])("takes %s", (_, outcomes, admits, expected, mapped) => {
    expect(firstTaker([a, b, c], mapper({ c: "C", ...outcomes }), admits).taken).toEqual({
      target: expected,
      mapped,
    });
  });

  it.each<[string, Record<string, Outcome>, (t: ResolvedTarget) => boolean, ResolvedTarget[]]>([
    ["keeps every target when the first takes it", { a: "A", b: "cannot", c: "C" }, open(), [a, b, c]],
    ["drops a target before the taker that cannot take it", { a: "cannot", b: "B", c: "C" }, open(), [b, c]],
    [
      "drops every refuser when only an open circuit's target takes it",
      { a: "A", b: "cannot", c: "no-embeddings" },
      open("a"),
      [a],
    ],
    [
      "drops a refusing target an open circuit would skip",
      { a: "bad-request", b: "B", c: "C" },
      open("a"),
      [b, c],
    ],
  ])("narrows the plan: %s", (_, outcomes, admits, plan) => {
    expect(firstTaker([a, b, c], mapper(outcomes), admits).plan).toEqual(plan);
  });

  it.each<[string, Record<string, Outcome>, (t: ResolvedTarget) => boolean, string]>([
    [
      "no target takes a parameter: the first, naming it",
      { a: "cannot", b: "cannot", c: "cannot" },
      open(),
      "unsupported_parameter",
    ],
    [
      "no target takes it for mixed reasons: the last, as the attempts say",
      { a: "cannot", b: "cannot", c: "no-embeddings" },
      open(),
      "embeddings_not_supported",
    ],
    [
      "only refusals the attempts would hear count: not an open circuit's",
      { a: "cannot", b: "cannot", c: "bad-request" },
      open("c"),
      "unsupported_parameter",
    ],
    [
      "no target takes it, the last for a parameter",
      { a: "no-embeddings", b: "cannot", c: "cannot" },
      open(),
      "unsupported_parameter",
    ],
    [
      "an admitted target refuses for good, as its attempt would end",
      { a: "cannot", b: "bad-request", c: "C" },
      open(),
      "invalid_request_body",
    ],
  ])("refuses when %s", (_, outcomes, admits, code) => {
    expect(codeOf(() => firstTaker([a, b, c], mapper(outcomes), admits))).toBe(code);
  });

  it("rethrows what is not a refusal: a fault is not the caller's", () => {
    const boom = () => {
      throw new TypeError("bug");
    };
    expect(() => firstTaker([a], boom, open())).toThrow(TypeError);
  });

  it("has nothing to take from an empty plan", () => {
    expect(firstTaker([], mapper({}), open())).toEqual({ plan: [], taken: undefined });
  });
});

describe("mappedFor", () => {
  it("reuses the mapping for its target and maps anew for another", () => {
    const taken = { target: a, mapped: "A" };
    expect(mappedFor(taken, a, () => "again")).toBe("A");
    expect(mappedFor(taken, b, () => "B")).toBe("B");
    expect(mappedFor(undefined, a, () => "fresh")).toBe("fresh");
  });
});
