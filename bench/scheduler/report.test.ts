import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaseResult } from './load.js';
import { anomalies, formatReport, type FailoverKill, type Results } from './report.js';

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

describe('formatReport', () => {
  it("prices each case's page faults at the machine's measured cost", () => {
    const c = { name: 'SchedulingBasic 10000', pods: 10000, bound: 10000, podsPerSecond: 1000, createsPerSecond: 1100, sli: { p50Ms: 1, p99Ms: 2 }, errors: 0, firstError: undefined, cpuMsPerPod: 1.9, faultsPerPod: 17.2 } as CaseResult;
    const text = formatReport({ nodes: 5000, rssAfterCasesMiB: [], cases: [c], pageFaultUs: 11.4 });
    assert.match(text, /Minor page faults \(masters \+ the hollow process\) per pod bound: SchedulingBasic 10000 17\.2 \(0\.20 ms of CPU\); a fault on a fresh page took 11\.4 µs on this machine/);
    assert.doesNotMatch(formatReport({ nodes: 5000, rssAfterCasesMiB: [], cases: [{ ...c, faultsPerPod: undefined }] }), /page faults/);
  });
});
