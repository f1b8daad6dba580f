/**
 * Usage and alert events on EventBridge (DESIGN §5, §6). The bus is regional: usage is aggregated in the
 * region that served it, into that region's own counter items of the global BudgetsTable.
 */
import { deliveryFromRule, dynamoClaimsInPrimary, dynamoRead, dynamoReadWrite, putEvents } from "./access.ts";
import { EVENT_SOURCE, LAMBDA_DEFAULTS } from "./lambda.ts";
import type { Storage } from "./storage.ts";

export interface Events {
  readonly bus: sst.aws.Bus;
  readonly alerts: sst.aws.SnsTopic;
  /** Usage events the cost aggregator could not count for a day: to inspect, then redrive. */
  readonly usageDeadLetterQueue: sst.aws.Queue;
  /** Alerts EventBridge could not publish to the topic for a day. */
  readonly alertsDeadLetterQueue: sst.aws.Queue;
}

export interface EventsConfig {
  /** Optional address subscribed to budget alerts (SNS sends it a confirmation mail first). */
  readonly alertEmail?: string | undefined;
}

const AGGREGATOR_TIMEOUT_SECONDS = 60;
// AWS: a source queue's visibility timeout should be at least six times the function's timeout, so a
// batch Lambda retries is not handed out again while an attempt still runs. It is also the retry delay.
const VISIBILITY_TIMEOUT_SECONDS = 6 * AGGREGATOR_TIMEOUT_SECONDS;
// Receives before an event is parked in the dead-letter queue: 240 at one per visibility timeout is about
// 24 hours of retries, as long as EventBridge retries a target (and the local bus an event).
const MAX_RECEIVE_COUNT = 240;
// SQS maximum message retention: 14 days (1 209 600 s), so a parked event outlives a long weekend.
const RETENTION_SECONDS = 1_209_600;
// SQS -> Lambda: up to 10 records a batch (the standard queue's default), each counted on its own.
const BATCH_SIZE = 10;

/**
 * A rule's target. EventBridge retries a failed delivery for 24 hours (its default retry policy), then
 * parks the event in `deadLetters` rather than dropping it; the queue lets this rule only send there.
 */
function targetWithDeadLetters(
  name: string,
  bus: sst.aws.Bus,
  rule: aws.cloudwatch.EventRule,
  arn: $util.Input<string>,
  deadLetters: sst.aws.Queue,
  deadLettersName = name,
) {
  new aws.sqs.QueuePolicy(`${deadLettersName}DeadLetterQueuePolicy`, {
    queueUrl: deadLetters.url,
    policy: deliveryFromRule("sqs:SendMessage", deadLetters.arn, rule.arn),
  });
  new aws.cloudwatch.EventTarget(`${name}Target`, {
    rule: rule.name,
    eventBusName: bus.name,
    arn,
    deadLetterConfig: { arn: deadLetters.arn },
  });
}

/** A rule on the bus for the gateway's events of one detail-type. */
function gatewayRule(bus: sst.aws.Bus, name: string, detailType: string, description: string) {
  return new aws.cloudwatch.EventRule(name, {
    eventBusName: bus.name,
    description,
    eventPattern: JSON.stringify({ source: [EVENT_SOURCE], "detail-type": [detailType] }),
  });
}

/**
 * `llm.usage` reaches the cost aggregator through a queue rather than as a Lambda target: Lambda retries
 * an asynchronous invocation twice and then discards the event, so a DynamoDB outage of a few minutes
 * would lose spend from the rollups and the thresholds. The queue keeps a failed event and hands it back
 * until it is counted, then parks it in a dead-letter queue (redrive it with SQS's own redrive).
 */
function usageQueue(bus: sst.aws.Bus) {
  const deadLetterQueue = new sst.aws.Queue("UsageDeadLetterQueue", {
    transform: { queue: { messageRetentionSeconds: RETENTION_SECONDS } },
  });
  const queue = new sst.aws.Queue("UsageQueue", {
    visibilityTimeout: `${VISIBILITY_TIMEOUT_SECONDS} seconds`,
    dlq: { queue: deadLetterQueue.arn, retry: MAX_RECEIVE_COUNT },
    transform: { queue: { messageRetentionSeconds: RETENTION_SECONDS } },
  });
  const rule = gatewayRule(bus, "UsageRule", "llm.usage", "llm.usage events to the cost aggregator's queue");
  new aws.sqs.QueuePolicy("UsageQueuePolicy", {
    queueUrl: queue.url,
    policy: deliveryFromRule("sqs:SendMessage", queue.arn, rule.arn),
  });
  // What EventBridge cannot send to the queue is parked beside what the aggregator gave up on.
  targetWithDeadLetters("Usage", bus, rule, queue.arn, deadLetterQueue);
  return { queue, deadLetterQueue };
}

export function createEvents(storage: Storage, config: EventsConfig): Events {
  const bus = new sst.aws.Bus("Bus");
  const usage = usageQueue(bus);

  usage.queue.subscribe(
    {
      ...LAMBDA_DEFAULTS,
      handler: "functions/cost-aggregator.handler",
      timeout: `${AGGREGATOR_TIMEOUT_SECONDS} seconds`,
      link: [storage.budgets, storage.registry, storage.keys, bus],
      // Writes rollups, reads the org and key budgets it checks thresholds against, and emits
      // `budget.threshold` back onto the bus.
      permissions: [
        dynamoReadWrite(storage.budgets),
        dynamoClaimsInPrimary(storage.budgets),
        dynamoRead(storage.registry),
        dynamoRead(storage.keys),
        putEvents(bus),
      ],
    },
    // Partial batch responses: only the records that failed go back to the queue.
    { batch: { size: BATCH_SIZE, partialResponses: true } },
  );

  const alerts = new sst.aws.SnsTopic("AlertsTopic");
  const thresholdRule = gatewayRule(
    bus,
    "BudgetThresholdRule",
    "budget.threshold",
    "budget.threshold events to the alerts topic",
  );
  new aws.sns.TopicPolicy("AlertsTopicPolicy", {
    arn: alerts.arn,
    policy: deliveryFromRule("sns:Publish", alerts.arn, thresholdRule.arn),
  });
  const alertsDeadLetterQueue = new sst.aws.Queue("AlertsDeadLetterQueue", {
    transform: { queue: { messageRetentionSeconds: RETENTION_SECONDS } },
  });
  targetWithDeadLetters("BudgetThreshold", bus, thresholdRule, alerts.arn, alertsDeadLetterQueue, "Alerts");
  if (config.alertEmail) {
    new aws.sns.TopicSubscription("AlertsEmail", {
      topic: alerts.arn,
      protocol: "email",
      endpoint: config.alertEmail,
    });
  }
  return { bus, alerts, usageDeadLetterQueue: usage.deadLetterQueue, alertsDeadLetterQueue };
}
