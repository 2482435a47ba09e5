// `navarch up --hollow-nodes N`: one detached `navarch hollow` process against the cluster's
// masters, its output in D/hollow.log, recorded in D/cluster.json so that `navarch down` stops it
// (down.ts stopHollow: SIGTERM; its Nodes stay, as a stopped agent's do).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, spawnLogged } from '../../pkg/localcluster/process.js';
import { isOurHollow, type HollowRecord } from './cluster_file.js';

export const MAX_HOLLOW_NODES = 100_000;

export function parseHollowNodes(v: string): number {
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_HOLLOW_NODES) throw new Error(`--hollow-nodes: expected an integer from 1 to ${MAX_HOLLOW_NODES}, got "${v}"`);
  return n;
}

/** Starts the hollow process (detached: it outlives `up`). */
export function startHollow(dir: string, endpoints: readonly string[], nodes: number): HollowRecord & { logOffset: number } {
  const server = endpoints.join(',');
  const log = join(dir, 'hollow.log');
  // The log is appended to across runs: only what this process writes counts.
  const logOffset = existsSync(log) ? statSync(log).size : 0;
  const child = spawnLogged(['--import', 'tsx', join(ROOT, 'cmd/navarch.ts'), 'hollow', '--server', server, '--nodes', String(nodes)], log, true);
  if (child.pid === undefined) throw new Error(`Cannot start navarch hollow (see ${log})`);
  return { pid: child.pid, nodes, server, log, logOffset };
}

/** Waits for the line the hollow process prints once every node is registered. */
export async function waitHollowReady(h: HollowRecord, logOffset: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const ready = `hollow: ${h.nodes} nodes ready`;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(h.log).subarray(logOffset).toString('utf8');
    } catch {
      // Not written yet.
    }
    if (text.includes(ready)) return;
    const tail = () => text.trimEnd().split('\n').slice(-10).join('\n');
    if (!isOurHollow(h.pid, h.server)) throw new Error(`navarch hollow (pid ${h.pid}) exited while registering its nodes; last lines of ${h.log}:\n${tail()}`);
    if (performance.now() > deadline) throw new Error(`navarch hollow (pid ${h.pid}) did not register its ${h.nodes} nodes within ${timeoutMs} ms; last lines of ${h.log}:\n${tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
