import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  NumberValue,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { toGatewayError } from "../../core/api/errors.ts";
import { aggregateUsage } from "../../core/budgets/aggregator.ts";
import { createDynamoBudgetStore } from "../../core/budgets/dynamo-store.ts";
import { createDynamoSpendStore } from "../../core/budgets/spend-dynamo-store.ts";
import type { GatewayEvent } from "../../core/events/port.ts";
import { createDynamoRateLimitStore } from "../../core/ratelimit/dynamo-store.ts";
import {
  withInjectedTransactionConflicts,
  withLostTransactionAnswer,
  withTransactionCancellations,
} from "../emulators/dynamodb-local.ts";
import { usage } from "../fixtures/usage.ts";
import { budgetStoreContract } from "./budget-store.contract.ts";
import { rateLimitStoreContract } from "./rate-limit-store.contract.ts";
import { spendStoreContract } from "./spend-store.contract.ts";

/** What the DynamoDB runner lends these cases: its emulator's tables and clients. */
export interface DynamoLimitsEnv {
  table(prefix: string): Promise<string>;
  doc(): DynamoDBDocumentClient;
  peerDoc(): DynamoDBDocumentClient;
  /** A fresh low-level client (the caller destroys it). */
  client(): DynamoDBClient;
  /** A fresh document client with its own connection pool (the caller destroys it). */
  documentClient(): DynamoDBDocumentClient;
}

/**
 * The budget, rate-limit and spend contracts over DynamoDB Local, then the DynamoDB-only cases: item
 * layout per region, paging, TransactionConflict retries.
 */
export function dynamoLimitsCases(env: DynamoLimitsEnv): void {
  /** Document clients with their own connection pools, created on first use: peers of limits stores. */
  const limitClients: DynamoDBDocumentClient[] = [];
  afterAll(() => {
    for (const c of limitClients) c.destroy();
  });
  const LIMIT_CLIENTS = 4;
  const limitClient = (n: number): DynamoDBDocumentClient => {
    while (limitClients.length <= n) limitClients.push(env.documentClient());
    return limitClients[n]!;
  };

  budgetStoreContract(
    "DynamoDB Local",
    async () => {
      const table = await env.table("budgets");
      // Both regions' counters in one table, each store knowing the other, as the router's are built.
      return (region, client, seed) =>
        createDynamoBudgetStore(limitClient(client), table, region, seed, ["us-east-1", "eu-west-1"]);
    },
    LIMIT_CLIENTS,
  );

  rateLimitStoreContract(
    "DynamoDB Local",
    async () => {
      const table = await env.table("rates");
      return (client) => createDynamoRateLimitStore(limitClient(client), table);
    },
    LIMIT_CLIENTS,
  );

  spendStoreContract(
    "DynamoDB Local",
    async () => {
      const table = await env.table("spend");
      return (client, options) => createDynamoSpendStore(limitClient(client), table, options);
    },
    LIMIT_CLIENTS,
  );

  describe("DynamoDB budget items per region", () => {
    it("writes each region's spend only to its own counter item", async () => {
      const table = await env.table("budget-regions");
      const counter = { scope: "org", id: "acme", period: "month", periodKey: "2026-11" } as const;
      const eu = createDynamoBudgetStore(env.doc(), table, "eu-west-1");
      const us = createDynamoBudgetStore(env.peerDoc(), table, "us-east-1");
      expect((await eu.reserve("r1", [{ counter, amountUsd: 0.6, limitUsd: 1 }])).ok).toBe(true);
      expect((await us.reserve("r2", [{ counter, amountUsd: 0.3, limitUsd: 1 }])).ok).toBe(true);
      await us.settle("r2", 0.25);
      const items = await env.doc().send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": "ORG#acme" },
        }),
      );
      expect(items.Items?.map((i) => [i.sk, i.spentUsd])).toEqual([
        ["SPEND#2026-11#eu-west-1", 0.6],
        ["SPEND#2026-11#us-east-1", 0.25],
      ]);
    });
  });

  describe("DynamoDB budget items past a double's nano-dollars", () => {
    it("reserves in one region against another region's item holding $8 500 000.000000001", async () => {
      const table = await env.table("budget-precision");
      const counter = { scope: "org", id: "big", period: "month", periodKey: "2026-11" } as const;
      await env.doc().send(
        new PutCommand({
          TableName: table,
          Item: { pk: "ORG#big", sk: "SPEND#2026-11#us-east-1", spentUsd: 8_000_000 },
        }),
      );
      const us = createDynamoBudgetStore(env.doc(), table, "us-east-1", undefined, ["eu-west-1"]);
      // DynamoDB adds decimals exactly: the item now holds a value no double does.
      const reserved = await us.reserve("u1", [
        { counter, amountUsd: 500_000.000000001, limitUsd: 9_000_000 },
      ]);
      expect(reserved.ok).toBe(true);
      const eu = createDynamoBudgetStore(env.peerDoc(), table, "eu-west-1", undefined, ["us-east-1"]);
      expect(await eu.reserve("e1", [{ counter, amountUsd: 1, limitUsd: 9_000_000 }])).toEqual({ ok: true });
    }, 60_000);

    it("reserves up to the last nano-dollar of a limit in the millions, and refuses the next one cleanly", async () => {
      const table = await env.table("budget-exact");
      const counter = { scope: "org", id: "big", period: "month", periodKey: "2026-11" } as const;
      await env.doc().send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: "ORG#big",
            sk: "SPEND#2026-11#eu-west-1",
            spentUsd: NumberValue.from("8999999.999999999"),
          },
        }),
      );
      const eu = createDynamoBudgetStore(env.doc(), table, "eu-west-1");
      const nano = [{ counter, amountUsd: 0.000000001, limitUsd: 9_000_000 }];
      expect(await eu.reserve("last", nano)).toEqual({ ok: true });
      expect(await eu.reserve("past", nano)).toMatchObject({ ok: false });
      expect(await eu.spent(counter)).toBe(9_000_000);
    }, 60_000);
  });

  describe("DynamoDB writes under sustained throttling", () => {
    it("give a reservation up after 5 tries rather than keep its request waiting", async () => {
      const { doc, transactions } = withInjectedTransactionConflicts(env.client(), "ThrottlingError", true);
      try {
        const counter = { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26" } as const;
        const budgets = createDynamoBudgetStore(doc, await env.table("throttled-budgets"), "eu-west-1");
        const failed = await budgets
          .reserve("r1", [{ counter, amountUsd: 0.1, limitUsd: 1 }])
          .catch((e) => e);
        expect(transactions()).toBe(5);
        // The caller hears 503 (retry shortly), not 500.
        expect(toGatewayError(failed)).toMatchObject({ status: 503, code: "store_busy" });
      } finally {
        doc.destroy();
      }
    }, 60_000);
  });

  describe("DynamoDB writes under conflicts and throttling", () => {
    it("retry a throttle that comes after conflicts: throttled tries are counted on their own", async () => {
      const client = env.client();
      try {
        const doc = withTransactionCancellations(client, [
          "TransactionConflict",
          "TransactionConflict",
          "TransactionConflict",
          "TransactionConflict",
          "ThrottlingError",
        ]);
        const rates = createDynamoRateLimitStore(doc, await env.table("contended-rates"));
        expect((await rates.consume([{ name: "key:k1:requests", limit: 3, amount: 1 }], 0)).ok).toBe(true);
      } finally {
        client.destroy();
      }
    });
  });

  describe("DynamoDB rate limits", () => {
    it("take a request once when the answer to its commit was lost and the SDK sent it again", async () => {
      const client = env.client();
      try {
        const { doc, sent } = withLostTransactionAnswer(client);
        const rates = createDynamoRateLimitStore(doc, await env.table("lost-rates"));
        const decision = await rates.consume([{ name: "key:k1:requests", limit: 3, amount: 1 }], 0);
        // The SDK gives TransactWriteItems a ClientRequestToken, so DynamoDB applies the repeat once.
        expect(sent()).toBe(2);
        expect(decision).toMatchObject({ ok: true, remaining: { "key:k1:requests": 2 } });
      } finally {
        client.destroy();
      }
    });
  });

  describe("DynamoDB rate limits, as corrections land", () => {
    const now = Date.UTC(2026, 10, 27, 12, 0, 30);
    const start = now - (now % 60_000);
    const tokens = (amount: number) => [{ name: "key:k1:tokens", limit: 1_000, amount }];

    /** A store whose client runs `before` ahead of each command it sends (by the SDK's command name). */
    async function storeWith(before: (command: string) => Promise<void>) {
      const client = env.client();
      client.middlewareStack.add(
        (next, context) => async (args) => {
          await before(context.commandName ?? "");
          return next(args);
        },
        { step: "initialize", name: "landBefore" },
      );
      const table = await env.table("corrected-rates");
      return { client, table, rates: createDynamoRateLimitStore(DynamoDBDocumentClient.from(client), table) };
    }

    it("ask a refusal again when the counts read after it have room: a correction landed in between", async () => {
      let land = false;
      const { client, table, rates } = await storeWith(async (command) => {
        // An earlier request's worst case (618 tokens) corrected to its usage (18), from another instance.
        if (command === "BatchGetItemCommand" && land) {
          land = false;
          await createDynamoRateLimitStore(env.doc(), table).adjust("key:k1:tokens", -600, start);
        }
      });
      try {
        expect((await rates.consume(tokens(618), now)).ok).toBe(true);
        land = true;
        expect(await rates.consume(tokens(618), now)).toMatchObject({
          ok: true,
          remaining: { "key:k1:tokens": 364 },
        });
        // Nothing lands now: refused, with the count that refused.
        expect(await rates.consume(tokens(618), now)).toMatchObject({
          ok: false,
          remaining: { "key:k1:tokens": 364 },
        });
      } finally {
        client.destroy();
      }
    });

    it("refuse with the count that refused when the room keeps vanishing, never one it could not take", async () => {
      let table = "";
      const {
        client,
        rates,
        table: t,
      } = await storeWith(async (command) => {
        // Another instance takes 500 before each try and gives it back before each read.
        const other = createDynamoRateLimitStore(env.doc(), table);
        if (command === "TransactWriteItemsCommand") await other.adjust("key:k1:tokens", 500, start);
        if (command === "BatchGetItemCommand") await other.adjust("key:k1:tokens", -500, start);
      });
      table = t;
      try {
        const decision = await rates.consume(tokens(618), now);
        expect(decision.ok).toBe(false);
        expect(decision.remaining["key:k1:tokens"]).toBeLessThan(618);
      } finally {
        client.destroy();
      }
    });
  });

  describe("DynamoDB threshold claims", () => {
    it("expire through TTL once their period and its redeliveries are over", async () => {
      const table = await env.table("claims-ttl");
      const store = createDynamoSpendStore(env.doc(), table);
      expect(await store.markThreshold("org#acme#2026-11#50#1", "r1")).toBe(true);
      const items = await env.doc().send(new ScanCommand({ TableName: table }));
      const days = (Number(items.Items?.[0]?.expiresAt) - Date.now() / 1000) / 86_400;
      expect(days).toBeGreaterThan(65);
      expect(days).toBeLessThan(67);
    });
  });

  describe("DynamoDB spend queries page", () => {
    it("returns every row when Query and Scan pages hold 2 items", async () => {
      const table = await env.table("spend-paging");
      const store = createDynamoSpendStore(env.doc(), table, { pageSize: 2 });
      await Promise.all(
        Array.from({ length: 7 }, (_, i) =>
          store.record(usage(`r${i}`, { keyId: `k${i}`, time: `2026-11-${20 + (i % 2)}T00:00:00.000Z` })),
        ),
      );
      const byOrg = await store.query({ org: "acme", from: "2026-11-20", to: "2026-11-21" });
      const byScan = await store.query({ from: "2026-11-20", to: "2026-11-21" });
      expect(byOrg.map((r) => r.keyId)).toEqual(["k0", "k2", "k4", "k6", "k1", "k3", "k5"]);
      expect(byScan).toEqual(byOrg);
    });
  });

  describe("DynamoDB budgets under replication lag and transaction conflicts", () => {
    // Two tables stand for one global table's replicas in eu and us; `replicate` is the replication the
    // emulator lacks. Between replications each region sees only its own recent writes.
    it("overshoots a limit by at most what the other region reserved during replication lag", async () => {
      const [euTable, usTable] = [await env.table("replica-eu"), await env.table("replica-us")];
      const counter = { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26" } as const;
      const eu = createDynamoBudgetStore(env.doc(), euTable, "eu-west-1");
      const us = createDynamoBudgetStore(env.doc(), usTable, "us-east-1");
      const reserve = (store: typeof eu, id: string, amountUsd: number) =>
        store.reserve(id, [{ counter, amountUsd, limitUsd: 1 }]);
      const replicate = async () => {
        for (const [from, to, region] of [
          [euTable, usTable, "eu-west-1"],
          [usTable, euTable, "us-east-1"],
        ] as const) {
          const items = await env.doc().send(new ScanCommand({ TableName: from }));
          for (const Item of items.Items ?? [])
            if (String(Item.sk).endsWith(`#${region}`))
              await env.doc().send(new PutCommand({ TableName: to, Item }));
        }
      };
      expect((await reserve(eu, "r1", 0.3)).ok).toBe(true);
      await replicate();
      // Lag: neither region sees the other's next reservation.
      expect((await reserve(eu, "r2", 0.4)).ok).toBe(true);
      expect((await reserve(us, "r3", 0.5)).ok).toBe(true);
      expect([await eu.spent(counter), await us.spent(counter)]).toEqual([0.7, 0.8]);
      await replicate();
      // $1.20 against $1.00: the $0.20 overshoot is below what either region reserved unseen by the other
      // during the lag ($0.40 in eu, $0.50 in us); once replicated, both regions refuse.
      expect([await eu.spent(counter), await us.spent(counter)]).toEqual([1.2, 1.2]);
      expect((await reserve(eu, "r4", 0.01)).ok).toBe(false);
      expect((await reserve(us, "r5", 0.01)).ok).toBe(false);
    });

    it("fires a line once when both regions cross it unseen by each other: claims are taken in one replica", async () => {
      const [euTable, usTable] = [await env.table("claims-eu"), await env.table("claims-us")];
      const published: string[] = [];
      // Each region's aggregator counts into its own replica and, as functions/cost-aggregator.ts builds
      // it, claims in the primary's (us-east-1) replica.
      const aggregator = (table: string) => ({
        spend: createDynamoSpendStore(env.doc(), table, { claims: { doc: env.doc(), tableName: usTable } }),
        events: {
          publish: async (events: GatewayEvent[]) => {
            for (const e of events) published.push(`${e.detail.scope}:${e.detail.threshold}`);
          },
        },
        orgBudgets: async () => [{ period: "day" as const, limitUsd: 1 }],
        keyBudgets: async () => [],
      });
      const at = { time: "2026-11-26T10:00:00.000Z", costUsd: 0.6 };
      // Replication has shown neither region the other's spend: each sees 60 % of the day's $1.
      await Promise.all([
        aggregateUsage(usage("r-eu", { ...at, region: "eu-west-1" }), aggregator(euTable)),
        aggregateUsage(usage("r-us", { ...at, region: "us-east-1" }), aggregator(usTable)),
      ]);
      expect(published).toEqual(["org:50"]);
    });

    it.each(["TransactionConflict", "ThrottlingError"] as const)(
      "retries transactions cancelled with %s and still counts exactly",
      async (code) => {
        const { doc, transactions } = withInjectedTransactionConflicts(env.client(), code);
        try {
          const counter = { scope: "org", id: "acme", period: "day", periodKey: "2026-11-26" } as const;
          const budgets = createDynamoBudgetStore(doc, await env.table("conflict-budgets"), "eu-west-1");
          const reserved = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              budgets.reserve(`r${i}`, [{ counter, amountUsd: 0.1, limitUsd: 1 }]),
            ),
          );
          expect(reserved.filter((r) => r.ok)).toHaveLength(10);
          const first = `r${reserved.findIndex((r) => r.ok)}`;
          await Promise.all([budgets.settle(first, 0.05), budgets.settle(first, 0.05)]);
          expect(await budgets.spent(counter)).toBe(0.95);

          const rates = createDynamoRateLimitStore(doc, await env.table("conflict-rates"));
          const bucket = { name: "key:k1:requests", limit: 3, amount: 1 };
          const decisions = await Promise.all(Array.from({ length: 5 }, () => rates.consume([bucket], 0)));
          expect(decisions.filter((d) => d.ok)).toHaveLength(3);

          const spend = createDynamoSpendStore(doc, await env.table("conflict-spend"));
          const recorded = await Promise.all(Array.from({ length: 3 }, () => spend.record(usage("r1"))));
          expect(recorded.filter(Boolean)).toHaveLength(1);
          expect(await spend.periodSpend("org", "acme", "2026-11")).toBe(0.1);
          expect(transactions()).toBeGreaterThan(20);
        } finally {
          doc.destroy();
        }
      },
      60_000,
    );
  });
}
