/**
 * What every AWS SDK client of the functions is built with. The SDK's HTTP handler has no timeouts by
 * default: a call whose answer never comes (a network blackhole), or stops after its headers, would hold
 * its invocation until the Lambda timeout (15 minutes for the router), and the cost aggregator past a
 * threshold claim. A timed-out call is a transient error the SDK's standard retry strategy retries
 * (DynamoDB's client makes 4 attempts, the others 3), so a dead endpoint costs 4 × 3 s at most per call.
 * Every call the functions make is a small item or batch, answered in milliseconds.
 *
 * @smithy/node-http-handler 4.x: `requestTimeout` bounds the wait for the headers and only warns unless
 * `throwOnRequestTimeout`; `socketTimeout` bounds each silence after them, while the body comes.
 */
export const AWS_CLIENT_CONFIG = {
  requestHandler: {
    connectionTimeout: 2_000,
    requestTimeout: 3_000,
    throwOnRequestTimeout: true,
    socketTimeout: 3_000,
  },
} as const;
