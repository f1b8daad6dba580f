import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildMessage, ParentMessage } from "./ipc.ts";

export interface Usage {
  cpuUs: number;
  rssBytes: number;
}

export interface Child {
  readonly name: string;
  readonly url: string;
  /** `drain`: the child first finishes the work its requests queued (the gateway's event deliveries). */
  usage(opts?: { drain?: boolean }): Promise<Usage>;
  stop(): Promise<void>;
}

/**
 * Starts `bench/<file>` in its own Node process (process.execPath, so the same Node 24 that runs the
 * bench) and resolves once it reports its URL. `execArgv` lets one child be profiled alone.
 */
export function startChild(
  name: string,
  file: string,
  args: string[],
  execArgv: string[] = [],
): Promise<Child> {
  const proc: ChildProcess = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execPath: process.execPath,
    execArgv,
    // stdout goes nowhere: the gateway writes its request log there, one JSON line a request, as
    // `npm start` does; stderr stays visible for failures.
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  // One usage query in flight at a time: the bench awaits each before the next.
  let pending: ((u: Usage) => void) | undefined;
  return new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`${name} exited with code ${code} before it was ready`)));
    proc.on("message", (m: ChildMessage) => {
      if (m.type === "failed") reject(new Error(`${name} failed to start: ${m.error}`));
      else if (m.type === "usage") pending?.({ cpuUs: m.cpuUs, rssBytes: m.rssBytes });
      else if (m.type === "ready") resolve(child(name, m.url));
    });
  });

  function child(childName: string, url: string): Child {
    return {
      name: childName,
      url,
      usage: (opts) =>
        new Promise<Usage>((done) => {
          pending = done;
          proc.send({ type: "usage", drain: opts?.drain ?? false } satisfies ParentMessage);
        }),
      stop: () =>
        new Promise<void>((done) => {
          if (proc.exitCode !== null || !proc.connected) return done();
          proc.once("exit", () => done());
          proc.disconnect();
        }),
    };
  }
}
