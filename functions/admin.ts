import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { handleAdminEvent } from "../core/admin/dispatch.ts";
import { createDynamoKeyStore } from "../core/keys/dynamo-store.ts";
import { linkedTableName } from "./aws/resources.ts";

/** Admin Lambda (`functions/admin.handler`): a buffered REST proxy integration, not a streaming one. */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const keys = createDynamoKeyStore(doc, linkedTableName("KeysTable"));

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().handler((event) =>
  handleAdminEvent(event, { keys, newId: randomUUID }),
);
