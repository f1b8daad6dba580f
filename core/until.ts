/**
 * Polls `done` every `everyMs` until it holds (true) or `timeoutMs` passes (false): the drains and
 * catch-ups of portable mode's in-process queues, whose progress is state in memory, not an event.
 */
export async function until(done: () => boolean, timeoutMs: number, everyMs = 2): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}
