// Shared checks for the scenario tests.

import assert from 'node:assert/strict';
import { type ClusterOptions, TestCluster } from '../testing/cluster.js';
import type { NodeId } from '../types.js';

export function ids(n: number): NodeId[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

export function cluster(n: number, options: ClusterOptions = {}): TestCluster {
  return new TestCluster(ids(n), options);
}

/** Election safety and state machine safety; every scenario ends with it. */
export function assertSafe(c: TestCluster): void {
  c.checkSafety();
}

/** The live members that are not the given ones. */
export function others(c: TestCluster, ...not: NodeId[]): NodeId[] {
  return [...c.members.keys()].filter((id) => !not.includes(id) && c.member(id).up);
}

/** Ticks until every listed member has applied `data`, or fails after maxTicks. */
export function waitApplied(c: TestCluster, members: NodeId[], data: string, maxTicks = 300): void {
  for (let i = 0; i < maxTicks; i++) {
    if (members.every((id) => c.appliedData(id).includes(data))) return;
    c.tick(1);
  }
  const missing = members.filter((id) => !c.appliedData(id).includes(data));
  assert.fail(`Members ${missing.join(', ')} did not apply "${data}" within ${maxTicks} ticks`);
}

/** Proposes on whoever leads, retrying through elections, until it commits on `members`. */
export function one(c: TestCluster, data: string, members: NodeId[] = [...c.members.keys()], maxTicks = 500): void {
  for (let i = 0; i < maxTicks; i++) {
    const l = c.leader();
    if (l !== undefined) {
      try {
        c.propose(l, data);
        c.stabilize();
      } catch {
        // Not the leader any more, or a transfer: try again after a tick.
      }
      for (let j = 0; j < 60; j++) {
        if (members.every((id) => c.appliedData(id).includes(data))) return;
        c.tick(1);
      }
    } else {
      c.tick(1);
    }
  }
  assert.fail(`"${data}" did not commit on ${members.join(', ')} within ${maxTicks} rounds`);
}

/** How many members applied `data`. */
export function nApplied(c: TestCluster, data: string): number {
  let n = 0;
  for (const id of c.members.keys()) if (c.appliedData(id).includes(data)) n++;
  return n;
}
