import middy, { type MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { type AdminDeps, handleAdminEvent } from "../core/admin/dispatch.ts";
import { stagePath } from "../core/api/stage-path.ts";
import { redactText } from "../core/pii/index.ts";

/** The promise form of the handler, as a host invokes it. */
export type AdminLambdaHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * The admin Lambda handler over whichever stores the caller wired: a buffered REST proxy integration
 * (event in, `{ statusCode, headers, body }` out). The Lambda entry (`functions/admin.ts`) and portable
 * mode's host both serve this one handler, so `/admin/...` behaves the same in both.
 */
export function createAdminHandler(
  deps: AdminDeps,
  middlewares: Array<MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>> = [],
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(middlewares)
    .handler(async (event) => {
      const res = await handleAdminEvent(event, deps);
      deps.log.info("admin request", {
        requestId: res.headers["x-request-id"],
        method: event.httpMethod,
        path: loggedPath(stagePath(event)),
        status: res.statusCode,
      });
      return res;
    });
}

/**
 * The path as logged: each segment percent-decoded and masked on its own, so that the log shows no
 * personal data the encoding hid (an id such as `4111%201111%201111%201111` is a card number), and a
 * segment is read as the value it is (a phone number right after a `/` would be read as part of a path).
 * A segment whose encoding is malformed is logged as it came.
 */
function loggedPath(path: string): string {
  return path
    .split("/")
    .map((segment) => {
      try {
        return redactText(decodeURIComponent(segment)).text;
      } catch {
        return segment;
      }
    })
    .join("/");
}
