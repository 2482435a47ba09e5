import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PING, healthAnswer, type HealthCheck } from './healthz.js';

const raft = (reason?: string): HealthCheck => ({ name: 'raft', check: () => reason });
const endpoints = (r: HealthCheck) => ({ livez: [PING], readyz: [PING, r] });

test('answers "ok" when every check passes, one line per check with ?verbose', () => {
  assert.deepEqual(healthAnswer('/readyz', endpoints(raft())), { status: 200, body: 'ok' });
  assert.deepEqual(healthAnswer('/readyz?verbose', endpoints(raft())), { status: 200, body: '[+]ping ok\n[+]raft ok\nreadyz check passed\n' });
  assert.deepEqual(healthAnswer('/livez', endpoints(raft('no leader'))), { status: 200, body: 'ok' }, 'livez has no raft check');
});

test('fails with 500 and every line, saying which check failed and why', () => {
  assert.deepEqual(healthAnswer('/readyz', endpoints(raft('no Raft leader known'))), { status: 500, body: '[+]ping ok\n[-]raft failed: no Raft leader known\nreadyz check failed\n' });
  const throwing: HealthCheck = { name: 'broken', check: () => { throw new Error('boom'); } };
  assert.equal(healthAnswer('/readyz', { readyz: [throwing] })?.body, '[-]broken failed: boom\nreadyz check failed\n');
});

test('runs one check by path, skips excluded ones, and leaves other paths alone', () => {
  assert.deepEqual(healthAnswer('/readyz/raft', endpoints(raft())), { status: 200, body: 'ok' });
  assert.deepEqual(healthAnswer('/readyz/raft', endpoints(raft('down'))), { status: 500, body: 'internal server error: down\n' });
  assert.equal(healthAnswer('/readyz/nope', endpoints(raft()))?.status, 404);
  assert.deepEqual(healthAnswer('/readyz?exclude=raft', endpoints(raft('down'))), { status: 200, body: 'ok' });
  assert.equal(healthAnswer('/readyz?verbose&exclude=raft&exclude=etcd', endpoints(raft('down')))?.body, '[+]ping ok\n[+]raft excluded: ok\nwarn: some health checks cannot be excluded: no matches for "etcd"\nreadyz check passed\n');
  assert.equal(healthAnswer('/metrics', endpoints(raft())), undefined);
  assert.equal(healthAnswer('/healthz', endpoints(raft())), undefined, 'an endpoint without checks is not served');
  assert.equal(healthAnswer('/readyz/raft/more', endpoints(raft())), undefined);
});

test('odd request paths get an answer or are left alone, never an exception', () => {
  for (const url of ['//', '//%', '//:99999', '/readyz/%', '/readyz?%zz', 'readyz', '', '?', '/readyz?exclude=%']) {
    assert.doesNotThrow(() => healthAnswer(url, endpoints(raft())), url);
  }
  assert.equal(healthAnswer('/readyz/%', endpoints(raft()))?.status, 404);
  assert.equal(healthAnswer('//', endpoints(raft())), undefined);
});
