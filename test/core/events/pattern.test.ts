import { describe, expect, it } from "vitest";
import { InvalidPatternError, matches, validatePattern } from "../../../core/events/pattern.ts";
import { autoscaling, complex, ec2, ec2Pattern, type Row, withDetail } from "./pattern-fixtures.ts";

// Sources of every case: see pattern-fixtures.ts (the EventBridge user guide's event-pattern pages).
const table: Row[] = [
  ["exact: EC2 termination", ec2Pattern, ec2, true],
  ["exact: other state", ec2Pattern, withDetail({ state: "running" }), false],
  ["exact: missing field", ec2Pattern, { source: "aws.ec2", detail: {} }, false],
  ["OR within a field: aws.ec2 or aws.fargate", { source: ["aws.ec2", "aws.fargate"] }, ec2, true],
  ["OR within a field: neither", { source: ["aws.s3", "aws.fargate"] }, ec2, false],
  [
    "nested numbers: risk-score 80 and trigger risk 8",
    { detail: { "risk-score": [80], trigger: { risk: [8] } } },
    { detail: { "risk-score": 80, trigger: { risk: 8 } } },
    true,
  ],
  [
    "nested numbers: trigger risk differs",
    { detail: { "risk-score": [80], trigger: { risk: [8] } } },
    { detail: { "risk-score": 80, trigger: { risk: 7 } } },
    false,
  ],
  ["null value", { detail: { responseElements: [null] } }, autoscaling, true],
  ["empty string", { detail: { eventVersion: [""] } }, autoscaling, true],
  ["empty string does not match null", { detail: { responseElements: [""] } }, autoscaling, false],
  ["null does not match empty string", { detail: { eventVersion: [null] } }, autoscaling, false],
  ["boolean", { detail: { stream: [true] } }, { detail: { stream: true } }, true],
  ["boolean mismatch", { detail: { stream: [true] } }, { detail: { stream: false } }, false],
  ["prefix on time", { time: [{ prefix: "2017-10-02" }] }, { time: "2017-10-02T18:43:48Z" }, true],
  ["prefix mismatch", { time: [{ prefix: "2017-10-02" }] }, ec2, false],
  ["prefix ignores numbers", { detail: { n: [{ prefix: "1" }] } }, { detail: { n: 12 } }, false],
  [
    "arrays: intersection is non-empty",
    {
      resources: [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
      ],
    },
    {
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    },
    true,
  ],
  ["arrays: disjoint", { resources: ["arn:a"] }, { resources: ["arn:b", "arn:c"] }, false],
  [
    "arrays: prefix on any element",
    { detail: { tags: [{ prefix: "Ins" }] } },
    { detail: { tags: ["Custom_Alert", "Insider"] } },
    true,
  ],
  [
    "arrays of objects: any element",
    { detail: { items: { sku: ["b"] } } },
    { detail: { items: [{ sku: "a" }, { sku: "b" }] } },
    true,
  ],
  [
    "arrays of arrays of objects: flattened, any element",
    { detail: { nested: { first: ["Anna"] } } },
    { detail: { nested: [[{ first: "Anna" }], [{ first: "Peter" }]] } },
    true,
  ],
  [
    "exists false below an empty array: no such field",
    { detail: { items: { sku: [{ exists: false }] } } },
    { detail: { items: [] } },
    true,
  ],
  [
    "exists false below an array of scalars: no such field",
    { detail: { items: { sku: [{ exists: false }] } } },
    { detail: { items: ["a", "b"] } },
    true,
  ],
  [
    "exists true below an array of scalars: no such field",
    { detail: { items: { sku: [{ exists: true }] } } },
    { detail: { items: ["a", "b"] } },
    false,
  ],
];

describe("matches: exact values, null, booleans, prefix, arrays (EventBridge user guide examples)", () => {
  it.each(table)("%s", (_name, pattern, event, expected) => {
    validatePattern(pattern);
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe("validatePattern", () => {
  const invalid: Array<[string, unknown]> = [
    ["suffix (unsupported here)", { detail: { f: [{ suffix: ".png" }] } }],
    ["cidr", { detail: { ip: [{ cidr: "10.0.0.0/24" }] } }],
    ["equals-ignore-case", { detail: { s: [{ "equals-ignore-case": "x" }] } }],
    ["wildcard", { detail: { s: [{ wildcard: "*x" }] } }],
    ["$or", { $or: [{ a: ["1"] }, { b: ["2"] }] }],
    ["anything-but suffix", { s: [{ "anything-but": { suffix: ".png" } }] }],
    ["anything-but mixed list", { s: [{ "anything-but": ["a", 1] }] }],
    ["anything-but null", { s: [{ "anything-but": null }] }],
    ["numeric bad operator", { n: [{ numeric: ["!=", 1] }] }],
    ["numeric odd length", { n: [{ numeric: [">", 1, "<"] }] }],
    ["numeric out of range", { n: [{ numeric: [">", 5.000001e9] }] }],
    ["numeric range upside down", { n: [{ numeric: ["<", 5, ">", 1] }] }],
    ["exists not boolean", { n: [{ exists: "yes" }] }],
    ["bare scalar instead of array", { source: "aws.ec2" }],
    ["empty value list", { source: [] }],
    ["empty pattern", {}],
    ["two operators in one object", { n: [{ prefix: "a", exists: true }] }],
  ];
  it.each(invalid)("rejects %s", (_name, pattern) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidPatternError);
  });

  it("accepts every operator it implements", () => {
    expect(() => validatePattern(complex)).not.toThrow();
    expect(() =>
      validatePattern({ detail: { c: [{ exists: true }], d: [null, true, 1, "x"] } }),
    ).not.toThrow();
    // EventBridge's numeric range: -5.0e9 to +5.0e9 inclusive.
    expect(() => validatePattern({ n: [{ numeric: [">=", -5e9, "<=", 5e9] }] })).not.toThrow();
  });
});
