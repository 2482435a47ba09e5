// Three real member processes with RocksDB data dirs; a client writes and
// reads continuously while a random member is killed with SIGKILL 20 times and
// restarted. Every acknowledged write must be read back and the whole history
// must be linearizable.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalKvCluster } from '../pkg/localcluster/kv_cluster.js';
import { KvRequestError, RaftKvClient } from '../pkg/raftkv/client.js';
import { checkKvHistory, type KvHistoryEntry } from '../raft/sim/linearizability.js';
import { SeededRandom } from '../raft/core/random.js';

const KILLS = 20;
const KEYS = 20;
const WORKERS = 4;

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A member that is starting or electing may refuse a call for a moment: that is not an answer yet.
    if (await Promise.resolve().then(cond).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

test('no acknowledged write is lost and the history is linearizable while members are killed 20 times', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-kill-'));
  const cluster = await LocalKvCluster.create({ dir, members: 3, snapshotEntries: 500 });
  const random = new SeededRandom(Number(process.env.E2E_SEED ?? 7));
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const history: KvHistoryEntry[] = [];
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  let acked = 0;
  let stop = false;
  cluster.startAll();
  const admin = new RaftKvClient(cluster.endpoints, { clientId: 'admin' });
  const clients: RaftKvClient[] = [];
  try {
    await cluster.waitForLeader(admin, 60_000);

    const worker = async (w: number): Promise<void> => {
      const client = new RaftKvClient(cluster.endpoints, { clientId: `w${w}`, requestTimeoutMs: 8000, attemptTimeoutMs: 1500 });
      clients.push(client);
      let n = 0;
      while (!stop) {
        const key = `k${(w * 7 + n) % KEYS}`;
        const isRead = n % 3 === 2;
        const callTimeMs = now();
        if (isRead) {
          try {
            const v = await client.get(key);
            history.push({ clientId: w, op: 'get', input: { key }, output: v ? dec.decode(v) : null, callTimeMs, returnTimeMs: now() });
          } catch {
            // A failed read has no effect: leave it out.
          }
        } else {
          const value = `w${w}-${n}`;
          try {
            await client.put(key, enc.encode(value));
            history.push({ clientId: w, op: 'put', input: { key, value }, output: 'ok', callTimeMs, returnTimeMs: now() });
            acked++;
          } catch (e) {
            if (!(e instanceof KvRequestError) || e.outcomeUnknown) {
              history.push({ clientId: w, op: 'put', input: { key, value }, output: undefined, callTimeMs, returnTimeMs: Infinity });
            }
          }
        }
        n++;
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));

    for (let k = 0; k < KILLS; k++) {
      const victim = 1 + random.intn(3);
      await cluster.kill(victim, 'SIGKILL');
      const before = acked;
      // The two survivors keep serving writes.
      await waitFor(`writes to continue after killing member ${victim}`, () => acked >= before + 10, 30_000);
      cluster.start(victim);
      const leader = await cluster.waitForLeader(admin, 30_000);
      let target = 0;
      await waitFor(`the commit index of leader ${leader}`, async () => {
        target = (await admin.status(leader, 1000)).commit;
        return true;
      }, 30_000);
      await waitFor(`member ${victim} to catch up to index ${target}`, async () => {
        try {
          return (await admin.status(victim, 500)).applied >= target;
        } catch {
          return false;
        }
      }, 30_000);
    }
    stop = true;
    await Promise.all(workers);

    // Read every key back through the leader (linearizable) and from each member once caught up.
    const finalAt = now();
    for (let i = 0; i < KEYS; i++) {
      const key = `k${i}`;
      const v = await admin.get(key);
      history.push({ clientId: 'final', op: 'get', input: { key }, output: v ? dec.decode(v) : null, callTimeMs: finalAt, returnTimeMs: now() });
    }
    const finalLeader = await cluster.waitForLeader(admin);
    let commit = 0;
    await waitFor(`the final commit index`, async () => {
      commit = (await admin.status(finalLeader, 1000)).commit;
      return true;
    }, 30_000);
    for (const m of cluster.members) {
      await waitFor(`member ${m.id} to apply index ${commit}`, async () => (await admin.status(m.id)).applied >= commit, 30_000);
      for (let i = 0; i < KEYS; i++) {
        const key = `k${i}`;
        const mine = await admin.get(key, { memberId: m.id, serializable: true });
        const leaders = await admin.get(key);
        assert.equal(mine && dec.decode(mine), leaders && dec.decode(leaders), `member ${m.id} disagrees on ${key}`);
      }
    }

    // A lost write: a key's final value was written before the last acknowledged write to that key began.
    let lost = 0;
    for (let i = 0; i < KEYS; i++) {
      const key = `k${i}`;
      const final = history.find((h) => h.clientId === 'final' && h.input.key === key)!.output;
      const puts = history.filter((h) => h.op === 'put' && h.input.key === key);
      const lastAcked = puts.filter((h) => h.output === 'ok').sort((a, b) => b.returnTimeMs - a.returnTimeMs)[0];
      if (!lastAcked) continue;
      const winner = puts.find((h) => h.input.value === final);
      if (!winner || winner.returnTimeMs < lastAcked.callTimeMs) lost++;
    }
    const result = checkKvHistory(history);
    process.stdout.write(`# kills=${KILLS} acked writes=${acked} ops=${history.length} lost=${lost} linearizable=${result.kind}\n`);
    assert.equal(lost, 0, 'acknowledged writes were lost');
    assert.equal(result.kind, 'ok', result.kind === 'illegal' ? result.explanation : JSON.stringify(result));
    assert.ok(acked > KILLS * 10, `too few writes were acknowledged (${acked})`);
  } catch (e) {
    // The members' own words on what happened, before their data dir is removed.
    const tails = cluster.members
      .map((m) => `--- member ${m.id} (${m.logFile}) ---\n${existsSync(m.logFile) ? readFileSync(m.logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)'}`)
      .join('\n');
    throw new Error(`${(e as Error).message}\n${tails}`, { cause: e });
  } finally {
    stop = true;
    for (const c of clients) c.close();
    admin.close();
    await cluster.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
