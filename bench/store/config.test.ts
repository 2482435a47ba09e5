import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCheckPerf } from './check_perf.js';
import { parseConfig } from './config.js';

describe('bench-store flags', () => {
  it('defaults to the issue\'s loads', () => {
    const c = parseConfig([]);
    assert.notEqual(c, 'help');
    if (c === 'help') return;
    assert.deepEqual(c.inflight, [1, 16, 64, 256]);
    assert.deepEqual(c.watchers, [1000, 10000]);
    assert.equal(c.pods, 150_000);
    assert.equal(c.podInflight, 64);
  });

  it('names the flag and the bad value', () => {
    assert.throws(() => parseConfig(['--inflight', '1,,4']), /Invalid --inflight "1,,4"/);
    assert.throws(() => parseConfig(['--only', 'puts,bogus']), /"bogus" is not one of puts, gets, perf, watch, fanout, pods/);
    assert.throws(() => parseConfig(['--pods', '0']), /Invalid --pods "0": expected an integer >= 1/);
    assert.throws(() => parseConfig(['--list-limit', '20000']), /at most 10000/);
    assert.throws(() => parseConfig(['--snapshot-entries', '0']), /Invalid --snapshot-entries "0": expected an integer >= 1/);
  });

  it('passes the masters\' snapshot interval and profile directory only when given', () => {
    const c = parseConfig(['--snapshot-entries', '1000000', '--cpu-prof', '/tmp/prof']);
    assert.ok(c !== 'help');
    assert.equal(c.snapshotEntries, 1_000_000);
    assert.equal(c.cpuProfDir, '/tmp/prof');
    const d = parseConfig([]);
    assert.ok(d !== 'help');
    assert.equal(d.snapshotEntries, undefined);
    assert.equal(d.cpuProfDir, undefined);
  });
});

describe('etcdctl check perf output', () => {
  it('reads the verdict and figures past the progress bar', () => {
    const out = ' 60 / 60 Boooooooo! 100.00% 1m0s\rPASS: Throughput is 150 writes/s\nPASS: Slowest request took 0.012345s\nPASS: Stddev is 0.000876s\nPASS\n';
    const r = parseCheckPerf('s', out);
    assert.equal(r.passed, true);
    assert.equal(r.writesPerSecond, 150);
    assert.equal(r.slowestS, 0.012345);
    assert.equal(r.stddevS, 0.000876);
  });

  it('fails when etcdctl says FAIL, and when it prints no verdict', () => {
    const r = parseCheckPerf('m', 'FAIL: Throughput too low: 600 writes/s\nPASS: Slowest request took 0.3s\nPASS: Stddev is 0.05s\nFAIL\n');
    assert.equal(r.passed, false);
    assert.equal(r.writesPerSecond, 600);
    assert.throws(() => parseCheckPerf('m', 'Error: context deadline exceeded'), /printed no PASS\/FAIL verdict: Error: context deadline exceeded/);
  });
});
