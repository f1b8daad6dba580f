/**
 * The public API: a REGIONAL REST API (the default edge-optimised endpoint goes through CloudFront, which
 * closes idle connections after 30 s) in front of one response-streaming router function, plus the admin
 * function (DESIGN §3, §8).
 */
import { dynamoRead, dynamoReadWrite, putEvents, sendMessages } from "./access.ts";
import type { Audit } from "./audit.ts";
import type { Events } from "./events.ts";
import { LAMBDA_DEFAULTS } from "./lambda.ts";
import type { Storage } from "./storage.ts";

export const PROVIDER_SECRETS = ["OpenaiApiKey", "AnthropicApiKey", "GeminiApiKey"] as const;

/** Routes served by the router; all stream (API Gateway invokes with InvokeWithResponseStream). */
export const STREAMING_ROUTES = {
  ChatCompletions: "POST /v1/chat/completions",
  Embeddings: "POST /v1/embeddings",
  Models: "GET /v1/models",
  // Greedy, so a `provider/model` id matches whether its slash comes encoded (as the SDK sends it) or not.
  Model: "GET /v1/models/{model+}",
  Healthz: "GET /healthz",
} as const;

// REST API integration timeout ceiling for responseTransferMode STREAM: 900 000 ms (15 min); BUFFERED
// stops at 29 s by default.
export const STREAM_INTEGRATION_TIMEOUT_MS = 900_000;
// Lambda's maximum timeout is 900 s, which matches the streaming integration ceiling.
const ROUTER_TIMEOUT = "15 minutes";

export interface Api {
  readonly api: sst.aws.ApiGatewayV1;
  readonly router: sst.aws.Function;
}

export function createApi(storage: Storage, events: Events, audit: Audit): Api {
  const secrets = PROVIDER_SECRETS.map((name) => new sst.Secret(name));

  const router = new sst.aws.Function("Router", {
    ...LAMBDA_DEFAULTS,
    handler: "functions/router-lambda.handler",
    timeout: ROUTER_TIMEOUT,
    memory: "1024 MB",
    streaming: true,
    link: [storage.registry, storage.keys, storage.budgets, events.bus, audit.queue, ...secrets],
    permissions: [
      // Registry and keys change only through the admin API; the router reads them.
      dynamoRead(storage.registry),
      dynamoRead(storage.keys),
      // Reservations and settlements.
      dynamoReadWrite(storage.budgets),
      putEvents(events.bus),
      // Audit records of orgs marked sensitive, auth failures and budget refusals.
      sendMessages(audit.queue),
    ],
  });

  const api = new sst.aws.ApiGatewayV1("Api", { endpoint: { type: "regional" } });
  for (const [name, route] of Object.entries(STREAMING_ROUTES)) {
    // One function for every route: pass its ARN (a FunctionArgs object would build a function per route).
    // With an ARN the route-level `streaming` flag is what selects STREAM and the streaming invoke URI.
    api.route(route, router.arn, {
      name,
      streaming: true,
      transform: {
        integration: (args) => {
          args.timeoutMilliseconds = STREAM_INTEGRATION_TIMEOUT_MS;
        },
      },
    });
  }

  api.route(
    "ANY /admin/{proxy+}",
    {
      ...LAMBDA_DEFAULTS,
      handler: "functions/admin.handler",
      timeout: "29 seconds",
      link: [storage.registry, storage.keys, storage.budgets, storage.audit, audit.queue],
      // The signing key's ARN only (linking the key itself would grant kms:Sign): exports embed its
      // public key.
      environment: { AUDIT_SIGNING_KEY_ARN: audit.signingKey.properties.arn },
      // Every registry/key change is audited; spend reports read the aggregator's rollups; chain
      // exports read the audit table and the signing key's public half.
      permissions: [
        dynamoReadWrite(storage.registry),
        dynamoReadWrite(storage.keys),
        dynamoRead(storage.budgets),
        dynamoRead(storage.audit),
        sendMessages(audit.queue),
        { actions: ["kms:GetPublicKey"], resources: [audit.signingKey.properties.arn] },
      ],
    },
    { name: "Admin" },
  );
  api.deploy();
  return { api, router };
}
