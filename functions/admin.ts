import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
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

const logger = new Logger({ serviceName: "llm-gateway-admin" });

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    const res = await handleAdminEvent(event, { keys, newId: randomUUID });
    logger.info("admin request", { method: event.httpMethod, path: event.path, status: res.statusCode });
    return res;
  });
