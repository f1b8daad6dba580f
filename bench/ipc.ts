/**
 * The tiny protocol between bench/run.ts and its child processes (simulator, raw proxy, gateway). Each
 * child reports its URL once it listens, then answers `usage` queries with its own process.cpuUsage(),
 * so the parent can attribute CPU time to exactly one server, free of load-generator noise.
 */
export type ParentMessage = { type: "usage"; drain?: boolean };

export type ChildMessage =
  | { type: "ready"; url: string }
  | { type: "usage"; cpuUs: number; rssBytes: number }
  | { type: "failed"; error: string };

/**
 * Child side: announce `url`, serve usage queries, and clean up when the parent disconnects. A query
 * with `drain` first waits for `drain` (the gateway's event bus delivering what its requests published),
 * so work a batch queued is counted in that batch.
 */
export function serveChild(
  url: string,
  close: () => Promise<void> = async () => {},
  drain: () => Promise<unknown> = async () => {},
): void {
  const send = (m: ChildMessage): void => {
    process.send?.(m);
  };
  const report = () => {
    const cpu = process.cpuUsage();
    send({ type: "usage", cpuUs: cpu.user + cpu.system, rssBytes: process.memoryUsage.rss() });
  };
  process.on("message", (m: ParentMessage) => {
    if (m.type !== "usage") return;
    if (m.drain) void drain().then(report, report);
    else report();
  });
  // Disconnect is the stop signal: exiting normally (not by SIGTERM) lets --cpu-prof write its profile.
  process.once("disconnect", () => {
    close().finally(() => process.exit(0));
  });
  send({ type: "ready", url });
}

/** Child side: report a startup failure to the parent instead of hanging it. */
export function failChild(err: unknown): never {
  process.send?.({ type: "failed", error: err instanceof Error ? err.stack : String(err) } as ChildMessage);
  process.exit(1);
}
