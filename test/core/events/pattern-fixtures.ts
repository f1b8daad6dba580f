import type { EventPattern } from "../../../core/events/port.ts";

// Patterns and events are the EventBridge user guide's own examples:
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html (field/value matching)
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
//   (prefix, anything-but, numeric, exists, complex example with multiple matching)
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html

export type Row = [name: string, pattern: EventPattern, event: Record<string, unknown>, expected: boolean];

export const ec2 = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated" },
};
export const ec2Pattern = {
  source: ["aws.ec2"],
  "detail-type": ["EC2 Instance State-change Notification"],
  detail: { state: ["terminated"] },
};
export const withDetail = (detail: Record<string, unknown>) => ({ ...ec2, detail });
export const autoscaling = {
  source: "aws.autoscaling",
  detail: { eventVersion: "", responseElements: null },
};
export const numeric: EventPattern = {
  detail: {
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ numeric: ["=", 3.018e2] }],
  },
};
export const complex: EventPattern = {
  time: [{ prefix: "2017-10-02" }],
  detail: {
    state: [{ "anything-but": "initializing" }],
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ "anything-but": [100, 200, 300] }],
  },
};
export const complexEvent = (detail: Record<string, unknown>, time = "2017-10-02T18:43:48Z") => ({
  ...ec2,
  time,
  detail,
});
export const ok = { state: "running", "c-count": 5, "d-count": 9, "x-limit": 150 };
