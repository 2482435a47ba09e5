// tcpSocket probes: success when a connection is established within the timeout; the connection
// is closed at once.

import { connect } from 'node:net';
import type { Clock } from '../../../raft/node/ports.js';
import type { ProbeOutcome } from './outcome.js';

export function tcpProbe(spec: { host: string; port: number; timeoutMs: number }, clock: Clock): Promise<ProbeOutcome> {
  const target = `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const socket = connect({ host: spec.host, port: spec.port });
    const timer = clock.setTimeout(() => finish({ result: 'failure', output: `dial tcp ${target}: timeout after ${spec.timeoutMs} ms` }), spec.timeoutMs);
    socket.once('connect', () => finish({ result: 'success', output: '' }));
    socket.once('error', (err) => finish({ result: 'failure', output: `dial tcp ${target}: ${err.message}` }));
  });
}
