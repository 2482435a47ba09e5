import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaseResult } from './load.js';
import { anomalies, type FailoverKill, type Results } from './report.js';

const kill = (k: number, gapMs: number) => ({ kill: k, gapMs }) as FailoverKill;
const results = (o: { leaseChanges?: number[]; gaps?: number[]; otherTransitions?: number }): Results => ({
  nodes: 5000,
  rssAfterCasesMiB: [],
  cases: (o.leaseChanges ?? [0]).map((n, i) => ({ name: `case ${i + 1}`, leaseChanges: n }) as CaseResult),
  failover: o.gaps ? { run: {} as CaseResult, kills: o.gaps.map((g, i) => kill(i + 1, g)), medianGapMs: NaN, otherTransitions: o.otherTransitions } : undefined,
});

describe('anomalies (what keeps the logs of a run)', () => {
  it('none in a run whose failovers met the target and whose lease moved only with the kills', () => {
    assert.equal(anomalies(results({ gaps: [1900, 2500, 3000], otherTransitions: 0 })), undefined);
    assert.equal(anomalies(results({})), undefined, 'no failover run');
  });

  it('names the kills whose binding gap was over 3 s', () => {
    assert.equal(anomalies(results({ gaps: [2100, 23_200, 2700, 3001] })), 'a binding gap over 3 s after kill 2, 4');
  });

  it('names the parts of the run that failed', () => {
    assert.equal(anomalies({ ...results({}), failures: ['failover: no scheduler lease holder'] }), '1 failed (failover: no scheduler lease holder)');
  });

  it('names where the lease changed hands without a kill', () => {
    assert.equal(anomalies(results({ leaseChanges: [0, 2], gaps: [2000], otherTransitions: 1 })), "the scheduler's lease changed hands without a kill in case 2, the failover run");
  });
});
