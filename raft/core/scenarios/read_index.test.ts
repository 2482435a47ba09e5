import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestCluster } from '../testing/cluster.js';
import type { NodeId, ReadState } from '../types.js';
import { assertSafe, cluster, one, others } from './helpers.js';

const enc = new TextEncoder();

/** Collects the read states a member hands out, by request context. */
function readStates(c: TestCluster, id: NodeId): Map<string, ReadState> {
  const out = new Map<string, ReadState>();
  const m = c.member(id);
  const orig = m.rn.ready.bind(m.rn);
  m.rn.ready = () => {
    const rd = orig();
    for (const rs of rd.readStates) out.set(new TextDecoder().decode(rs.requestCtx), rs);
    return rd;
  };
  return out;
}

test('ReadIndex: the leader answers only after a quorum answers a heartbeat, with its commit index', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=1');
  const got = readStates(c, l);
  let heartbeatAcks = 0;
  c.filter = (m) => {
    if (m.type === 'MsgHeartbeatResp' && m.context.length > 0) heartbeatAcks++;
    return true;
  };
  c.member(l).rn.readIndex(enc.encode('r1'));
  // Nothing is answered until the heartbeat round trip.
  c.process(l);
  assert.equal(got.size, 0);
  c.stabilize();
  assert.ok(heartbeatAcks >= 1);
  assert.equal(got.get('r1')?.index, c.member(l).rn.raft.log.committed);
  assertSafe(c);
});

test('ReadIndex: a leader cut off from its quorum never answers, so a stale read is impossible', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=1');
  const got = readStates(c, l);
  c.isolate(l);
  c.member(l).rn.readIndex(enc.encode('stale'));
  c.tick(3);
  const rest = others(c, l);
  c.waitLeader(200, rest);
  one(c, 'a=2', rest);
  c.tick(30);
  // Never a read point; once it steps down (CheckQuorum) the caller is told at once (index 0) instead of timing out.
  assert.notEqual(c.member(l).rn.raft.role, 'leader');
  assert.equal(got.get('stale')?.index, 0);
  assertSafe(c);
});

test('ReadIndex: a follower’s read is forwarded to the leader and answered with the leader’s commit index', () => {
  const c = cluster(3);
  const l = c.waitLeader();
  one(c, 'a=1');
  const f = others(c, l)[0];
  const got = readStates(c, f);
  const forwarded: string[] = [];
  c.filter = (m) => {
    if (m.type === 'MsgReadIndex' || m.type === 'MsgReadIndexResp') forwarded.push(`${m.type} ${m.from}->${m.to}`);
    return true;
  };
  c.member(f).rn.readIndex(enc.encode('fr'));
  c.stabilize();
  assert.deepEqual(forwarded, [`MsgReadIndex ${f}->${l}`, `MsgReadIndexResp ${l}->${f}`]);
  assert.equal(got.get('fr')?.index, c.member(l).rn.raft.log.committed);
  assertSafe(c);
});
