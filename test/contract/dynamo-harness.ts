import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { createTables, type DynamoDbLocal, startDynamoDbLocal } from "../emulators/dynamodb-local.ts";

export interface DynamoHarness {
  readonly ddb: DynamoDbLocal;
  /** The document client stores under test use; it counts the harness's `counted` command. */
  readonly doc: DynamoDBDocumentClient;
  /** A second client with its own connection pool: a peer must not share the first one's sockets. */
  readonly peerDoc: DynamoDBDocumentClient;
  /** How many `counted` commands `doc` has sent; tests reset it to prove that a read really pages. */
  calls: number;
  /** Every store gets its own fresh table, so contract cases start from empty storage. */
  freshTable(prefix: string): Promise<string>;
  /** The two factories a contract suite takes: a store on a fresh table, and a peer on that same table. */
  factories<S extends object>(
    prefix: string,
    create: (doc: DynamoDBDocumentClient, table: string) => S,
  ): [make: () => Promise<S>, peerOf: (store: S) => S];
}

/**
 * Starts one DynamoDB Local for the calling test file (beforeAll) and stops it afterwards. The returned
 * object is filled in by beforeAll, so read its fields inside tests, not at module level.
 */
export function useDynamoDbLocal(counted: string): DynamoHarness {
  let admin: DynamoDBClient | undefined;
  let tables = 0;
  const h = {
    calls: 0,
    async freshTable(prefix: string): Promise<string> {
      const name = `${prefix}-${++tables}-${process.pid}`;
      await createTables(admin!, [name]);
      return name;
    },
    factories<S extends object>(prefix: string, create: (doc: DynamoDBDocumentClient, table: string) => S) {
      const tableOf = new WeakMap<S, string>();
      const make = async (): Promise<S> => {
        const table = await h.freshTable(prefix);
        const store = create(h.doc, table);
        tableOf.set(store, table);
        return store;
      };
      return [make, (store: S) => create(h.peerDoc, tableOf.get(store)!)] as [() => Promise<S>, (s: S) => S];
    },
  } as { -readonly [K in keyof DynamoHarness]: DynamoHarness[K] };

  beforeAll(async () => {
    h.ddb = await startDynamoDbLocal();
    admin = h.ddb.client();
    const base = h.ddb.client();
    base.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === counted) h.calls++;
        return next(args);
      },
      { step: "initialize", name: "countCalls" },
    );
    h.doc = DynamoDBDocumentClient.from(base);
    h.peerDoc = h.ddb.documentClient();
  }, 60_000);

  afterAll(async () => {
    for (const c of [h.doc, h.peerDoc, admin]) c?.destroy();
    await h.ddb?.dispose();
  });

  return h;
}
