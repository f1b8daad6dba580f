/**
 * What every AWS SDK client of the functions is built with. The SDK's HTTP handler has no timeouts by
 * default: a call whose answer never comes (a network blackhole) would hold its invocation until the
 * Lambda timeout (15 minutes for the router), and the cost aggregator past a threshold claim, losing
 * that alert. A timed-out call is a transient error the SDK's standard retry strategy retries. Every
 * call the functions make is a small item or batch, answered well within these.
 */
export const AWS_CLIENT_CONFIG = {
  // @smithy/node-http-handler 4.x only warns when requestTimeout passes unless told to throw.
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;
