// Writes sent to a follower travel to the leader inside Raft. When the leader drops one on the way
// without a new term starting (here: it refuses proposals while a leadership transfer to a dead
// member runs, then stays leader), the follower must learn so and propose it again, not leave the
// client waiting until "request timed out".

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestMasters, until } from './test_util.js';

const b = (s: string): Buffer => Buffer.from(s);

test('writes through a follower that the leader drops during a failed leadership transfer are retried, not timed out', async () => {
  const m = await TestMasters.start(3);
  try {
    const leader = await m.leader();
    const [followerId, deadId] = [...m.members.keys()].filter((id) => id !== leader.id);
    await m.members.get(deadId)!.stop({ transferLeadership: false });
    m.members.delete(deadId);
    const c = m.client(followerId);
    const term = leader.node.term();

    const acknowledged = new Map<string, string>();
    const errors: string[] = [];
    let stop = false;
    let sent = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}/${i}`;
        sent++;
        try {
          await c.call('KV', 'Put', { key: b(key), value: b(`v${i}`) }, 30_000);
          acknowledged.set(key, `v${i}`);
        } catch (e) {
          errors.push(`${key}: ${(e as { details?: string }).details ?? String(e)}`);
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await until('writes flowing', () => acknowledged.size >= 20);
    // The dead member can never take over: the leader refuses proposals for an election timeout, then gives up.
    const transfer = leader.node.transferLeadership(deadId, 1000).then(
      () => assert.fail('the dead member took over'),
      () => undefined,
    );
    const before = acknowledged.size;
    await until('writes flowing again after the transfer gave up', () => acknowledged.size >= before + 200, 20_000);
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(errors, [], `${errors.length} of ${sent} writes failed`);
    assert.equal(leader.node.term(), term, 'the leader kept its term: no election told the follower its writes were lost');
    assert.ok(leader.node.isLeader());
    // Every acknowledged write is there, on both live members.
    for (const id of m.members.keys()) {
      const r = await m.client(id).call('KV', 'Range', { key: b('w'), range_end: b('x') });
      const got = new Map<string, string>(r.kvs.map((kv: { key: Buffer; value: Buffer }) => [kv.key.toString(), kv.value.toString()]));
      for (const [k, v] of acknowledged) assert.equal(got.get(k), v, `member ${id} has ${k}`);
    }
    await transfer;
  } finally {
    await m.close();
  }
});
