import middy, { type MiddlewareObj } from "@middy/core";
import { executionModeStreamifyResponse } from "@middy/core/StreamifyResponse";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { awaitPending } from "../core/gateway/complete.ts";
import { handleEvent } from "../core/gateway/dispatch.ts";
import type { GatewayDeps, GatewayResponse } from "../core/gateway/types.ts";

/**
 * The router Lambda: API Gateway REST proxy event in, streamed response out (prelude + 8 NUL bytes +
 * body, written by `awslambda.HttpResponseStream`). Headers are decided before the first body byte, so
 * upstream failures before it are ordinary HTTP errors. `awslambda` must exist when this is called: the
 * Lambda runtime provides it; portable mode installs `functions/local/lambda-runtime.ts` first.
 */
export function createRouterHandler(
  deps: GatewayDeps,
  middlewares: Array<MiddlewareObj<APIGatewayProxyEvent, GatewayResponse>> = [],
) {
  return middy<APIGatewayProxyEvent, GatewayResponse>({
    executionMode: executionModeStreamifyResponse,
    // The gateway enforces its own upstream timeouts; middy's early-timeout race would add a timer per request.
    timeoutEarlyInMillis: 0,
    // Runs after the body has streamed: settlement and the usage event finish before the invocation ends.
    requestEnd: (request) => awaitPending(request.event as object),
  })
    .use(middlewares)
    .handler((event: APIGatewayProxyEvent) => handleEvent(event, deps));
}
