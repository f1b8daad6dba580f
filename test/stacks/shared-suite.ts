/** Assertions that hold in both regions; each regional test file runs them against its own deployment. */
import { expect, it } from "vitest";
import { STREAM_INTEGRATION_TIMEOUT_MS, STREAMING_ROUTES } from "../../stacks/api.ts";
import {
  actionsFor,
  functionByHandler,
  grants,
  identityStatements,
  named,
  ofType,
  resourcesFor,
  roleOf,
  TYPES,
  text,
} from "./inspect.ts";
import type { Synth } from "./sst-runtime.ts";

export const HANDLERS = {
  router: "functions/router-lambda.handler",
  admin: "functions/admin.handler",
  costAggregator: "functions/cost-aggregator.handler",
  auditWriter: "functions/audit-writer.handler",
  auditCheckpoint: "functions/audit-checkpoint.handler",
  reservationSweeper: "functions/reservation-sweeper.handler",
} as const;

const arnOf = (s: Synth, type: string, name: string): string => text(named(s, type, name).state, "arn");
const tableArns = (s: Synth, ...logical: string[]): string[] =>
  logical
    .flatMap((l) => [arnOf(s, TYPES.table, `${l}Table`), `${arnOf(s, TYPES.table, `${l}Table`)}/index/*`])
    .sort();

export function sharedSuite(get: () => Synth, region: string): void {
  it("serves a REGIONAL REST API (not edge: CloudFront idles out after 30 s)", () => {
    const [api, ...more] = ofType(get(), TYPES.restApi);
    expect(more).toHaveLength(0);
    expect(
      [api?.inputs.endpointConfiguration].flatMap((c) => (c as { types: string[] | string }).types),
    ).toEqual(["REGIONAL"]);
  });

  it("streams every router route through one function with a 900 000 ms integration timeout", () => {
    const s = get();
    const router = functionByHandler(s, HANDLERS.router);
    for (const name of Object.keys(STREAMING_ROUTES)) {
      const integration = named(s, TYPES.integration, `ApiRoute${name}Integration`).inputs;
      expect(integration).toMatchObject({ type: "AWS_PROXY", responseTransferMode: "STREAM" });
      expect(integration.timeoutMilliseconds).toBe(STREAM_INTEGRATION_TIMEOUT_MS);
      // InvokeWithResponseStream: the 2021-11-15 response-streaming-invocations path.
      expect(integration.uri).toBe(
        `arn:aws:apigateway:${region}:lambda:path/2021-11-15/functions/${text(router.state, "arn")}/response-streaming-invocations`,
      );
    }
    const methods = Object.keys(STREAMING_ROUTES).map((n) =>
      named(s, "aws:apigateway/method:Method", `ApiRoute${n}Method`),
    );
    expect(methods.map((m) => m.inputs.httpMethod)).toEqual(
      Object.values(STREAMING_ROUTES).map((r) => r.split(" ")[0]),
    );
    expect(router.inputs.timeout).toBeGreaterThanOrEqual(900);
  });

  it("routes ANY /admin/{proxy+} to the admin function, buffered", () => {
    const s = get();
    const integration = named(s, TYPES.integration, "ApiRouteAdminIntegration").inputs;
    expect(integration).toMatchObject({ httpMethod: "ANY", responseTransferMode: "BUFFERED" });
    expect(integration.uri).toContain(text(functionByHandler(s, HANDLERS.admin).state, "arn"));
    const parts = ofType(s, "aws:apigateway/resource:Resource").map((r) => r.inputs.pathPart);
    expect(parts).toEqual(
      expect.arrayContaining(["v1", "chat", "completions", "embeddings", "models", "{model+}", "healthz"]),
    );
    expect(parts).toEqual(expect.arrayContaining(["admin", "{proxy+}"]));
  });

  it("runs every function on nodejs24.x/arm64 with a role only Lambda can assume", () => {
    const s = get();
    const fns = ofType(s, TYPES.fn);
    expect(fns.map((f) => f.inputs.handler).sort()).toEqual(Object.values(HANDLERS).sort());
    for (const fn of fns) {
      expect(fn.inputs).toMatchObject({ runtime: "nodejs24.x", architectures: ["arm64"] });
      const trust = JSON.parse(text(roleOf(s, fn).inputs, "assumeRolePolicy")) as { Statement: unknown[] };
      expect(trust.Statement).toEqual([
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
    }
  });

  it("keeps audit records in a regional table with pk/sk and no replicas", () => {
    const audit = named(get(), TYPES.table, "AuditTableTable");
    expect(audit.read).toBe(false);
    expect(audit.inputs).toMatchObject({
      hashKey: "pk",
      rangeKey: "sk",
      pointInTimeRecovery: { enabled: true },
    });
    expect(audit.inputs.replicas ?? []).toEqual([]);
    expect(text(audit.state, "arn")).toContain(`:dynamodb:${region}:`);
  });

  it("feeds the audit writer from a FIFO queue with a FIFO DLQ and partial batch responses", () => {
    const s = get();
    const queue = named(s, TYPES.queue, "AuditQueueQueue");
    const dlq = named(s, TYPES.queue, "AuditDeadLetterQueueQueue");
    expect(queue.inputs).toMatchObject({ fifoQueue: true, contentBasedDeduplication: false });
    expect(dlq.inputs).toMatchObject({ fifoQueue: true });
    expect(text(dlq.inputs, "name")).toMatch(/\.fifo$/);
    expect(JSON.parse(text(queue.inputs, "redrivePolicy"))).toEqual({
      deadLetterTargetArn: text(dlq.state, "arn"),
      maxReceiveCount: 5,
    });
    const esm = ofType(s, TYPES.esm).filter((e) => e.inputs.eventSourceArn === text(queue.state, "arn"));
    expect(esm).toHaveLength(1);
    expect(esm[0]?.inputs).toMatchObject({
      eventSourceArn: text(queue.state, "arn"),
      functionName: text(functionByHandler(s, HANDLERS.auditWriter).state, "arn"),
      functionResponseTypes: ["ReportBatchItemFailures"],
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
    });
  });

  it("runs two schedules: audit checkpoints every minute, the reservation sweep every 5 minutes", () => {
    const schedules = ofType(get(), TYPES.rule).filter((r) => r.inputs.scheduleExpression !== undefined);
    expect(schedules.map((r) => r.inputs.scheduleExpression).sort()).toEqual([
      "rate(1 minute)",
      "rate(5 minutes)",
    ]);
  });

  it("sweeps open reservations with lookups in the budgets and registry tables, PutEvents onto the bus and SendMessage to the audit queue only", () => {
    const s = get();
    const fn = grants(s, HANDLERS.reservationSweeper);
    expect(resourcesFor(fn, "dynamodb")).toEqual(tableArns(s, "BudgetsTable", "RegistryTable"));
    expect(actionsFor(fn, "dynamodb")).toEqual(["dynamodb:GetItem", "dynamodb:Query"]);
    expect(actionsFor(fn, "events")).toEqual(["events:PutEvents"]);
    expect(resourcesFor(fn, "events")).toEqual([arnOf(s, "aws:cloudwatch/eventBus:EventBus", "BusBus")]);
    expect(actionsFor(fn, "sqs")).toEqual(["sqs:GetQueueUrl", "sqs:SendMessage"]);
    expect(resourcesFor(fn, "sqs")).toEqual([arnOf(s, TYPES.queue, "AuditQueueQueue")]);
    expect(actionsFor(fn, "kms")).toEqual([]);
  });

  it("checkpoints quiet audit chains with the audit table and the signing key only", () => {
    const s = get();
    const fn = grants(s, HANDLERS.auditCheckpoint);
    expect(resourcesFor(fn, "dynamodb")).toEqual(tableArns(s, "AuditTable"));
    expect(actionsFor(fn, "kms")).toEqual(["kms:GetPublicKey", "kms:Sign"]);
    expect(actionsFor(fn, "sqs").concat(actionsFor(fn, "events"))).toEqual([]);
  });

  it("sends llm.usage to the cost aggregator and budget.threshold to the alerts topic", () => {
    const s = get();
    // Pattern rules only: the audit checkpoint schedule is a rule too, with a schedule instead.
    const rules = ofType(s, TYPES.rule)
      .filter((r) => r.inputs.eventPattern !== undefined)
      .map((r) => ({ r, pattern: JSON.parse(text(r.inputs, "eventPattern")) }));
    const target = (detailType: string) => {
      const match = rules.filter(({ pattern }) => pattern["detail-type"]?.[0] === detailType);
      expect(match).toHaveLength(1);
      expect(match[0]?.pattern.source).toEqual(["llm-gateway"]);
      const rule = match[0]!.r;
      return ofType(s, TYPES.target).find((t) => t.inputs.rule === rule.state.name)?.inputs.arn;
    };
    expect(target("llm.usage")).toBe(arnOf(s, TYPES.queue, "UsageQueueQueue"));
    expect(target("budget.threshold")).toBe(arnOf(s, TYPES.topic, "AlertsTopicTopic"));
    // An alert EventBridge could not publish for its 24 hours of retries is parked, not dropped.
    const alertsTarget = ofType(s, TYPES.target).find(
      (t) => t.inputs.arn === arnOf(s, TYPES.topic, "AlertsTopicTopic"),
    );
    expect(alertsTarget?.inputs.deadLetterConfig).toEqual({
      arn: arnOf(s, TYPES.queue, "AlertsDeadLetterQueueQueue"),
    });
    const dlqPolicy = JSON.parse(
      text(named(s, "aws:sqs/queuePolicy:QueuePolicy", "AlertsDeadLetterQueuePolicy").inputs, "policy"),
    );
    expect(dlqPolicy.Statement[0].Condition).toEqual({
      ArnEquals: { "aws:SourceArn": [text(named(s, TYPES.rule, "BudgetThresholdRule").state, "arn")] },
    });
    const policy = JSON.parse(
      text(named(s, "aws:sns/topicPolicy:TopicPolicy", "AlertsTopicPolicy").inputs, "policy"),
    );
    expect(policy.Statement[0]).toMatchObject({
      Action: ["sns:Publish"],
      Principal: { Service: ["events.amazonaws.com"] },
    });
  });

  it("queues llm.usage for the cost aggregator, retried for a day before a DLQ, from its own rule only", () => {
    const s = get();
    const queue = named(s, TYPES.queue, "UsageQueueQueue");
    const dlq = named(s, TYPES.queue, "UsageDeadLetterQueueQueue");
    expect(queue.inputs).toMatchObject({ visibilityTimeoutSeconds: 360, messageRetentionSeconds: 1_209_600 });
    expect(JSON.parse(text(queue.inputs, "redrivePolicy"))).toEqual({
      deadLetterTargetArn: text(dlq.state, "arn"),
      maxReceiveCount: 240,
    });
    const esm = ofType(s, TYPES.esm).filter((e) => e.inputs.eventSourceArn === text(queue.state, "arn"));
    expect(esm).toHaveLength(1);
    expect(esm[0]?.inputs).toMatchObject({
      functionName: text(functionByHandler(s, HANDLERS.costAggregator).state, "arn"),
      functionResponseTypes: ["ReportBatchItemFailures"],
      batchSize: 10,
    });
    const rule = named(s, TYPES.rule, "UsageRule");
    // What EventBridge cannot hand the queue for a day is parked in the same dead-letter queue.
    const usageTarget = ofType(s, TYPES.target).find((t) => t.inputs.rule === rule.state.name);
    expect(usageTarget?.inputs.deadLetterConfig).toEqual({ arn: text(dlq.state, "arn") });
    const policy = JSON.parse(
      text(named(s, "aws:sqs/queuePolicy:QueuePolicy", "UsageQueuePolicy").inputs, "policy"),
    );
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Action: ["sqs:SendMessage"],
        Principal: { Service: ["events.amazonaws.com"] },
        Condition: { ArnEquals: { "aws:SourceArn": [text(rule.state, "arn")] } },
      }),
    ]);
  });

  it('grants no "*" resource for dynamodb:, sqs:, kms: or events: actions', () => {
    const statements = identityStatements(get());
    expect(statements.length).toBeGreaterThan(0);
    for (const { owner, statement } of statements) {
      if (!statement.Action.some((a) => /^(dynamodb|sqs|kms|events):/.test(a))) continue;
      expect(statement.Resource.length, owner).toBeGreaterThan(0);
      for (const resource of statement.Resource)
        expect(resource, owner).toMatch(/^arn:aws:(dynamodb|sqs|kms|events):/);
    }
  });

  it("gives each function only the resources it uses", () => {
    const s = get();
    const bus = arnOf(s, "aws:cloudwatch/eventBus:EventBus", "BusBus");
    const queue = arnOf(s, TYPES.queue, "AuditQueueQueue");
    const writes = (access: Map<string, Set<string>>) => [...(access.get("dynamodb:PutItem") ?? [])].sort();

    const router = grants(s, HANDLERS.router);
    expect(resourcesFor(router, "dynamodb")).toEqual(
      tableArns(s, "RegistryTable", "KeysTable", "BudgetsTable"),
    );
    expect(writes(router)).toEqual(tableArns(s, "BudgetsTable"));
    expect(resourcesFor(router, "events")).toEqual([bus]);
    expect(actionsFor(router, "sqs")).toEqual(["sqs:GetQueueUrl", "sqs:SendMessage"]);
    expect(resourcesFor(router, "sqs")).toEqual([queue]);
    expect(actionsFor(router, "kms")).toEqual([]);

    const admin = grants(s, HANDLERS.admin);
    // Registry and key writes; spend reports read the budgets table; chain exports read the audit
    // table and the signing key's public half, and may never sign.
    expect(resourcesFor(admin, "dynamodb")).toEqual(
      tableArns(s, "RegistryTable", "KeysTable", "BudgetsTable", "AuditTable"),
    );
    expect(writes(admin)).toEqual(tableArns(s, "RegistryTable", "KeysTable"));
    expect(actionsFor(admin, "events")).toEqual([]);
    expect(actionsFor(admin, "kms")).toEqual(["kms:GetPublicKey"]);

    const aggregator = grants(s, HANDLERS.costAggregator);
    // Writes rollups; reads the org and key budgets it checks thresholds against; takes threshold
    // claims in the primary region's replica of the budgets table, from either region.
    const budgets = arnOf(s, TYPES.table, "BudgetsTableTable");
    const primaryBudgets = budgets.replace(`:dynamodb:${region}:`, ":dynamodb:us-east-1:");
    expect(resourcesFor(aggregator, "dynamodb")).toEqual(
      [...new Set([...tableArns(s, "RegistryTable", "KeysTable", "BudgetsTable"), primaryBudgets])].sort(),
    );
    expect(writes(aggregator)).toEqual(
      [...new Set([...tableArns(s, "BudgetsTable"), primaryBudgets])].sort(),
    );
    expect([...(aggregator.get("dynamodb:DeleteItem") ?? [])].sort()).toEqual(
      [...new Set([budgets, `${budgets}/index/*`, primaryBudgets])].sort(),
    );
    expect(actionsFor(aggregator, "events")).toEqual(["events:PutEvents"]);
    expect(resourcesFor(aggregator, "events")).toEqual([bus]);
    expect(resourcesFor(aggregator, "sqs")).toEqual([arnOf(s, TYPES.queue, "UsageQueueQueue")]);
    expect(actionsFor(aggregator, "sqs")).not.toContain("sqs:SendMessage");
    expect(actionsFor(aggregator, "kms")).toEqual([]);

    const writer = grants(s, HANDLERS.auditWriter);
    expect(resourcesFor(writer, "dynamodb")).toEqual(tableArns(s, "AuditTable"));
    expect(actionsFor(writer, "kms")).toEqual(["kms:GetPublicKey", "kms:Sign"]);
    const key = ofType(s, TYPES.key).concat(ofType(s, TYPES.replicaKey));
    expect(resourcesFor(writer, "kms")).toEqual([text(key[0]!.state, "arn")]);
    expect(resourcesFor(writer, "sqs")).toEqual([queue]);
    expect(actionsFor(writer, "sqs")).not.toContain("sqs:SendMessage");
    expect(actionsFor(writer, "events")).toEqual([]);
  });
}
