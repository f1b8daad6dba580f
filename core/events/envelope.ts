import { z } from "zod";

/**
 * The EventBridge envelope as a Lambda target receives it. Every gateway event uses
 * `source: "llm-gateway"`; the detail schemas arrive with the spend (usage) and audit issues.
 */
export const eventBridgeEnvelope = z.looseObject({
  id: z.string().min(1),
  source: z.literal("llm-gateway"),
  "detail-type": z.string().min(1),
  time: z.string().optional(),
  region: z.string().optional(),
  detail: z.record(z.string(), z.unknown()),
});

export type EventBridgeEnvelope = z.infer<typeof eventBridgeEnvelope>;

/** An SQS FIFO record as Lambda delivers it: the fields the audit writer relies on. */
export const sqsFifoRecord = z.looseObject({
  messageId: z.string().min(1),
  body: z.string(),
  attributes: z.looseObject({
    MessageGroupId: z.string().min(1),
    MessageDeduplicationId: z.string().min(1),
    SequenceNumber: z.string().optional(),
  }),
});

export const sqsEvent = z.looseObject({ Records: z.array(sqsFifoRecord) });

/** A standard-queue SQS record: its body is what the sender (an EventBridge rule's target) put there. */
export const sqsStandardEvent = z.looseObject({
  Records: z.array(z.looseObject({ messageId: z.string().min(1), body: z.string() })),
});
