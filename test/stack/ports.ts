// Loopback ports for the stack tests, taken from this concern's range (15300–15399)
// so that two runs of a test, or two test files, never share one.
import { createServer } from "node:net";

/** Slices of the range, one per test file, so files running in parallel never race for a port. */
export const PORTS = {
  kafkaBrokers: [15310, 15349],
  fixtureHttp: [15350, 15359],
} as const satisfies Record<string, readonly [number, number]>;

const claimed = new Set<number>();

/** A port in [from, to] that nothing listens on now and this process has not handed out. */
export async function freePort([from, to]: readonly [number, number]): Promise<number> {
  for (let port = from; port <= to; port++) {
    if (claimed.has(port)) continue;
    if (await canListen(port)) {
      claimed.add(port);
      return port;
    }
  }
  throw new Error(`no free port on 127.0.0.1 in ${from}–${to}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ port, host: "127.0.0.1", exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
