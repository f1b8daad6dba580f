/**
 * Usage and alert events on EventBridge (DESIGN §5, §6). The bus is regional: usage is aggregated in the
 * region that served it, into that region's own counter items of the global BudgetsTable.
 */
import { dynamoRead, dynamoReadWrite, putEvents } from "./access.ts";
import { EVENT_SOURCE, LAMBDA_DEFAULTS } from "./lambda.ts";
import type { Storage } from "./storage.ts";

export interface Events {
  readonly bus: sst.aws.Bus;
  readonly alerts: sst.aws.SnsTopic;
}

export interface EventsConfig {
  /** Optional address subscribed to budget alerts (SNS sends it a confirmation mail first). */
  readonly alertEmail?: string | undefined;
}

export function createEvents(storage: Storage, config: EventsConfig): Events {
  const bus = new sst.aws.Bus("Bus");

  bus.subscribe(
    "CostAggregator",
    {
      ...LAMBDA_DEFAULTS,
      handler: "functions/cost-aggregator.handler",
      timeout: "1 minute",
      link: [storage.budgets, storage.registry, storage.keys, bus],
      // Writes rollups, reads the org and key budgets it checks thresholds against, and emits
      // `budget.threshold` back onto the bus.
      permissions: [
        dynamoReadWrite(storage.budgets),
        dynamoRead(storage.registry),
        dynamoRead(storage.keys),
        putEvents(bus),
      ],
    },
    { pattern: { source: [EVENT_SOURCE], detailType: ["llm.usage"] } },
  );

  const alerts = new sst.aws.SnsTopic("AlertsTopic");
  const thresholdRule = new aws.cloudwatch.EventRule("BudgetThresholdRule", {
    eventBusName: bus.name,
    description: "budget.threshold events to the alerts topic",
    eventPattern: JSON.stringify({ source: [EVENT_SOURCE], "detail-type": ["budget.threshold"] }),
  });
  // EventBridge publishes with its service principal, so the topic must allow it, for this rule only.
  new aws.sns.TopicPolicy("AlertsTopicPolicy", {
    arn: alerts.arn,
    policy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          actions: ["sns:Publish"],
          resources: [alerts.arn],
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          conditions: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [thresholdRule.arn] }],
        },
      ],
    }).json,
  });
  new aws.cloudwatch.EventTarget("BudgetThresholdTarget", {
    rule: thresholdRule.name,
    eventBusName: bus.name,
    arn: alerts.arn,
  });
  if (config.alertEmail) {
    new aws.sns.TopicSubscription("AlertsEmail", {
      topic: alerts.arn,
      protocol: "email",
      endpoint: config.alertEmail,
    });
  }
  return { bus, alerts };
}
