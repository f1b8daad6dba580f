import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/** Partition and sort key attribute names shared by every gateway table. */
export const PK = "pk";
export const SK = "sk";

/**
 * The key schema every gateway table shares: a string partition key `pk` and a string sort key `sk`, so
 * one item layout (entity prefix in `pk`, facet in `sk`) serves registry, keys and budgets alike. Tests
 * create emulator tables from this constant; the SST stacks declare the same schema on their own (the
 * stacks must not import runtime code), so a change here must be mirrored there.
 */
export const GATEWAY_TABLE_KEY: Required<
  Pick<CreateTableCommandInput, "AttributeDefinitions" | "KeySchema">
> = {
  AttributeDefinitions: [
    { AttributeName: PK, AttributeType: "S" },
    { AttributeName: SK, AttributeType: "S" },
  ],
  KeySchema: [
    { AttributeName: PK, KeyType: "HASH" },
    { AttributeName: SK, KeyType: "RANGE" },
  ],
};
