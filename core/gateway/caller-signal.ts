/**
 * The caller's disconnect per request id, for a host that can see it: portable mode's node:http server
 * registers an AbortSignal it aborts when the caller's connection closes early. Lambda's response
 * stream reports no disconnect, so nothing is registered there and nothing changes. The attempt loop
 * (attempts.ts) reads it to abort the upstream call in flight and to stop retrying and falling back.
 */
const callers = new Map<string, AbortSignal>();

/** Registers the caller's signal for one invocation; returns the function that forgets it again. */
export function watchCaller(requestId: string, signal: AbortSignal): () => void {
  callers.set(requestId, signal);
  return () => {
    if (callers.get(requestId) === signal) callers.delete(requestId);
  };
}

export const callerSignal = (requestId: string): AbortSignal | undefined => callers.get(requestId);
