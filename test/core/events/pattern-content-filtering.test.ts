import { describe, expect, it } from "vitest";
import { matches, validatePattern } from "../../../core/events/pattern.ts";
import { complex, complexEvent, numeric, ok, type Row, withDetail } from "./pattern-fixtures.ts";

// Cases from https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
// (anything-but, numeric, exists and "complex example with multiple matching").
const table: Row[] = [
  [
    "anything-but string",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    withDetail({ state: "running" }),
    true,
  ],
  [
    "anything-but string: excluded",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    withDetail({ state: "initializing" }),
    false,
  ],
  [
    "anything-but string: absent field",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    withDetail({}),
    false,
  ],
  [
    "anything-but number",
    { detail: { "x-limit": [{ "anything-but": 123 }] } },
    withDetail({ "x-limit": 124 }),
    true,
  ],
  [
    "anything-but number: excluded",
    { detail: { "x-limit": [{ "anything-but": 123 }] } },
    withDetail({ "x-limit": 123 }),
    false,
  ],
  [
    "anything-but string list",
    { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    withDetail({ state: "running" }),
    true,
  ],
  [
    "anything-but string list: excluded",
    { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    withDetail({ state: "overloaded" }),
    false,
  ],
  [
    "anything-but number list",
    { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    withDetail({ "x-limit": 150 }),
    true,
  ],
  [
    "anything-but number list: excluded",
    { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    withDetail({ "x-limit": 200 }),
    false,
  ],
  [
    "anything-but prefix",
    { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    withDetail({ state: "running" }),
    true,
  ],
  [
    "anything-but prefix: excluded",
    { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    withDetail({ state: "initializing" }),
    false,
  ],
  ["numeric: all fields hold", numeric, withDetail({ "c-count": 5, "d-count": 9, "x-limit": 301.8 }), true],
  [
    "numeric: lower bound exclusive",
    numeric,
    withDetail({ "c-count": 0, "d-count": 9, "x-limit": 301.8 }),
    false,
  ],
  [
    "numeric: upper bound exclusive",
    numeric,
    withDetail({ "c-count": 1, "d-count": 10, "x-limit": 301.8 }),
    false,
  ],
  ["numeric: = 3.018e2", numeric, withDetail({ "c-count": 1, "d-count": 1, "x-limit": 302 }), false],
  [
    "numeric: string is not a number",
    numeric,
    withDetail({ "c-count": "1", "d-count": 1, "x-limit": 301.8 }),
    false,
  ],
  ["numeric >= and <", { detail: { n: [{ numeric: [">=", 10, "<", 20] }] } }, { detail: { n: 10 } }, true],
  [
    "exists false: field absent",
    { detail: { "c-count": [{ exists: false }] } },
    withDetail({ state: ["initializing", "running"] }),
    true,
  ],
  [
    "exists false: c-count is not a leaf",
    { detail: { "c-count": [{ exists: false }] } },
    withDetail({ state: ["initializing", "running"], "c-count": { c1: 100 } }),
    true,
  ],
  [
    "exists false: present",
    { detail: { "c-count": [{ exists: false }] } },
    withDetail({ "c-count": 3 }),
    false,
  ],
  ["exists true: present", { detail: { "c-count": [{ exists: true }] } }, withDetail({ "c-count": 3 }), true],
  [
    "exists true: null still exists",
    { detail: { "c-count": [{ exists: true }] } },
    withDetail({ "c-count": null }),
    true,
  ],
  ["exists true: absent", { detail: { "c-count": [{ exists: true }] } }, withDetail({}), false],
  [
    "exists false: whole parent absent",
    { detail: { "c-count": [{ exists: false }] } },
    { source: "x" },
    true,
  ],
  ["multiple matching: all hold", complex, complexEvent(ok), true],
  ["multiple matching: wrong day", complex, complexEvent(ok, "2017-10-03T00:00:00Z"), false],
  ["multiple matching: state initializing", complex, complexEvent({ ...ok, state: "initializing" }), false],
  ["multiple matching: c-count out of range", complex, complexEvent({ ...ok, "c-count": 6 }), false],
  ["multiple matching: x-limit excluded", complex, complexEvent({ ...ok, "x-limit": 300 }), false],
  [
    "OR of operators in one field",
    { detail: { n: [{ numeric: ["<", 0] }, { numeric: [">", 100] }] } },
    { detail: { n: 101 } },
    true,
  ],
];

describe("matches: content filtering (EventBridge user guide examples)", () => {
  it.each(table)("%s", (_name, pattern, event, expected) => {
    validatePattern(pattern);
    expect(matches(pattern, event)).toBe(expected);
  });
});
