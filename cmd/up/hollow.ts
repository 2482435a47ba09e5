// `navarch up --hollow-nodes N`: one detached `navarch hollow` process against the cluster's
// masters, its output in D/hollow.log, recorded in D/cluster.json so that `navarch down` stops it
// (down.ts stopHollow: SIGTERM; its Nodes stay, as a stopped agent's do).

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, spawnLogged } from '../../pkg/localcluster/process.js';
import { isOurHollow, type HollowRecord } from './cluster_file.js';
import { waitForReadyLine } from './ready_line.js';

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
export function waitHollowReady(h: HollowRecord, logOffset: number, timeoutMs: number): Promise<void> {
  return waitForReadyLine({
    who: `navarch hollow (pid ${h.pid})`,
    doing: 'registering its nodes',
    goal: `register its ${h.nodes} nodes`,
    log: h.log,
    logOffset,
    ready: `hollow: ${h.nodes} nodes ready`,
    alive: () => isOurHollow(h.pid, h.server),
    timeoutMs,
  });
}
