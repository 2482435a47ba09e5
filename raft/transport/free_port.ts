// Ports for test clusters, benchmarks and `navarch up`. They are taken from below Linux's ephemeral
// range: a port probed there and released could otherwise become the source port of an outgoing
// connection (or another port-0 bind) before the real server binds it, which failed CI with EADDRINUSE.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const rangePorts = 10_000;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2_048 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const lastPort = ephemeralLow() - 1;
const firstPort = Math.max(1_024, lastPort - rangePorts);
// Each process walks the range from its own starting point, so concurrent test processes rarely meet.
let nextPort = firstPort + ((process.pid * 613) % (lastPort - firstPort));

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on now and that the kernel will not hand out by itself. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 500; tries++) {
    const port = nextPort;
    nextPort = nextPort >= lastPort ? firstPort : nextPort + 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`No free port on 127.0.0.1 between ${firstPort} and ${lastPort}`);
}
