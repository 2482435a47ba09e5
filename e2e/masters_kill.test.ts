// Three `navarch master` processes; the shop manifests are applied through the client, then
// writers create, update and delete ConfigMaps continuously while watches are open on different
// masters, and the leader is killed with SIGKILL (then restarted) several times. Afterwards every
// acknowledged write is on every master, nothing refused as "not applied" exists, and each watch
// saw every change in revision order with no gap and no duplicate.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeObject } from '../pkg/api/convert/object.js';
import type { ConfigMap } from '../pkg/api/registry.js';
import { ApiError, NavarchClient, type ClientWatchEvent } from '../pkg/client/mod.js';
import { freePort } from '../pkg/localcluster/kv_cluster.js';
import { LocalMasterCluster } from '../pkg/localcluster/master_cluster.js';
import { SeededRandom } from '../raft/core/random.js';
import { applyShop, assertShopIntact } from './testdata/manifests.js';

const STORE_ONLY = ['--no-scheduler', '--no-controllers'];

const KILLS = Number(process.env.E2E_KILLS ?? 3);
const WRITERS = 4;
const WATCHES = 3;
const NS = 'kill';
/** Acknowledged writes to wait for between two steps of the kill sequence. */
const ACKS_PER_STEP = 25;

type Outcome = 'acked' | 'notApplied' | 'unknown';

interface Op {
  type: 'create' | 'update' | 'delete';
  /** data.v written (create, update). */
  value?: string;
  outcome: Outcome;
  /** The answer's resourceVersion when acknowledged. */
  rv?: number;
  startMs: number;
  endMs: number;
  reason?: string;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.resolve().then(cond).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

const rotate = <T>(xs: readonly T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

function configMap(name: string, value: string): ConfigMap {
  return decodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, labels: { set: 'kill' } }, data: { v: value } }).object as ConfigMap;
}

/** How a failed write counts: refused by the server or certainly not sent means not applied. */
function outcomeOf(err: unknown): { outcome: Outcome; reason: string } {
  if (!(err instanceof ApiError)) return { outcome: 'unknown', reason: `thrown ${(err as Error)?.name ?? typeof err}` };
  if (err.code === 'Unavailable') return err.details.notApplied ? { outcome: 'notApplied', reason: 'Unavailable (not applied)' } : { outcome: 'unknown', reason: 'Unavailable (outcome unknown)' };
  if (err.code === 'Internal') return { outcome: 'unknown', reason: 'Internal' };
  return { outcome: 'notApplied', reason: err.code };
}

test(`acknowledged writes survive ${KILLS} SIGKILLs of the leader and watches resume without a gap`, { timeout: 120_000 }, async () => {
  const seed = Number(process.env.E2E_SEED ?? Date.now() % 1_000_000);
  process.stdout.write(`# masters_kill seed=${seed} (E2E_SEED to replay the writers' choices)\n`);
  const dir = mkdtempSync(join(tmpdir(), 'navarch-e2e-masters-kill-'));
  const cluster = await LocalMasterCluster.create({ dir, masters: 3 });
  const endpoints = cluster.members.map((m) => m.clientAddress);
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const history = new Map<string, Op[]>();
  const clients: NavarchClient[] = [];
  const watches: Array<{ close(): void }> = [];
  let acked = 0;
  let stop = false;
  // The stored objects are the subject: no controllers acting on the shop's Deployments (their status
  // and ReplicaSets would change what this test compares), no scheduler.
  for (const m of cluster.members) cluster.start(m.id, STORE_ONLY);
  try {
    await cluster.waitForLeader(60_000);
    const admin = new NavarchClient({ endpoints, retryDeadlineMs: 20_000 });
    clients.push(admin);
    const shop = await applyShop(admin);
    await admin.create(decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).object);
    const fromRv = (await admin.list('configmaps', { namespace: NS })).resourceVersion;

    // Each watch starts on a different master (a client talks to its first endpoint first).
    const seen: ClientWatchEvent<ConfigMap>[][] = [];
    const watchers: Promise<void>[] = [];
    for (let i = 0; i < WATCHES; i++) {
      const c = new NavarchClient({ endpoints: rotate(endpoints, i), retryDeadlineMs: 30_000 });
      clients.push(c);
      const w = c.watch<ConfigMap>('configmaps', { namespace: NS, resourceVersion: fromRv });
      watches.push(w);
      const events: ClientWatchEvent<ConfigMap>[] = [];
      seen.push(events);
      watchers.push(
        (async () => {
          for await (const e of w) events.push(e);
        })(),
      );
    }

    // The last writer also knows an address where nothing listens and never retries: its writes sent
    // there fail as certainly not applied, and none of them may exist afterwards.
    const nowhere = `127.0.0.1:${await freePort()}`;
    const writer = async (w: number): Promise<void> => {
      const last = w === WRITERS - 1;
      // Half the writers give up quickly during elections.
      const c = new NavarchClient({
        endpoints: last ? [nowhere, ...rotate(endpoints, w)] : rotate(endpoints, w),
        callTimeoutMs: 3000,
        retryDeadlineMs: last ? 0 : w % 2 === 0 ? 8000 : 300,
      });
      clients.push(c);
      const random = new SeededRandom(seed * 31 + w);
      const live: string[] = [];
      let created = 0;
      for (let n = 0; !stop; n++) {
        const value = `w${w}-${n}`;
        const r = random.intn(10);
        let op: Op;
        let name: string;
        const startMs = now();
        const record = (o: Omit<Op, 'startMs' | 'endMs'>): Op => ({ ...o, startMs, endMs: now() });
        if (live.length < 3 || r < 3) {
          name = `w${w}-${created++}`;
          live.push(name);
          try {
            const res = await c.create(configMap(name, value));
            op = record({ type: 'create', value, outcome: 'acked', rv: Number(res.metadata?.resourceVersion) });
          } catch (e) {
            op = record({ type: 'create', value, ...outcomeOf(e) });
          }
        } else if (r < 9) {
          name = live[random.intn(live.length)];
          try {
            const res = await c.update(configMap(name, value));
            op = record({ type: 'update', value, outcome: 'acked', rv: Number(res.metadata?.resourceVersion) });
          } catch (e) {
            op = record({ type: 'update', value, ...outcomeOf(e) });
          }
        } else {
          name = live.splice(random.intn(live.length), 1)[0];
          try {
            const res = await c.delete('configmaps', NS, name);
            op = record({ type: 'delete', outcome: 'acked', rv: Number(res.object.metadata?.resourceVersion) });
          } catch (e) {
            op = record({ type: 'delete', ...outcomeOf(e) });
          }
        }
        // An object whose create was refused is not written again (its name stays unused).
        if (op.type !== 'delete' && op.reason === 'NotFound') live.splice(live.indexOf(name), 1);
        if (op.type === 'create' && op.outcome === 'notApplied') live.splice(live.indexOf(name), 1);
        if (!history.has(name)) history.set(name, []);
        history.get(name)!.push(op);
        if (op.outcome === 'acked') acked++;
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

    const ackedAfter = (atMs: number): Op[] =>
      [...history.values()].flat().filter((o) => o.outcome === 'acked' && o.startMs >= atMs);
    const kills: Array<{ id: number; atMs: number; firstWriteMs?: number }> = [];
    await waitFor('the first writes', () => acked >= ACKS_PER_STEP, 30_000);
    for (let k = 0; k < KILLS; k++) {
      const leader = await cluster.waitForLeader(30_000);
      const atMs = now();
      await cluster.kill(leader, 'SIGKILL');
      kills.push({ id: leader, atMs });
      await waitFor(`writes to continue after killing leader ${leader}`, () => ackedAfter(atMs).length >= ACKS_PER_STEP, 30_000);
      kills[k].firstWriteMs = Math.min(...ackedAfter(atMs).map((o) => o.endMs)) - atMs;
      cluster.start(leader, STORE_ONLY);
      await cluster.waitForLeader(30_000);
      const back = now();
      await waitFor(`writes after master ${leader} restarted`, () => ackedAfter(back).length >= ACKS_PER_STEP, 30_000);
    }
    stop = true;
    await Promise.all(writers);

    // Settled: one leader; each master, read alone and linearizably, holds the same objects.
    await cluster.waitForLeader(30_000);
    const finals: Array<Map<string, ConfigMap>> = [];
    for (const endpoint of endpoints) {
      const one = new NavarchClient({ endpoints: [endpoint], retryDeadlineMs: 15_000 });
      clients.push(one);
      const list = await one.listAll<ConfigMap>('configmaps', { namespace: NS, serializable: false });
      finals.push(new Map(list.items.map((o) => [o.metadata!.name!, o])));
    }
    const final = finals[0];
    for (let i = 1; i < finals.length; i++) {
      assert.deepEqual(
        [...finals[i].entries()].map(([n, o]) => [n, o.metadata?.resourceVersion, o.data?.v]).sort(),
        [...final.entries()].map(([n, o]) => [n, o.metadata?.resourceVersion, o.data?.v]).sort(),
        `master ${endpoints[i]} disagrees with master ${endpoints[0]}`,
      );
    }

    // Each name's final state must come from its last acknowledged write or a later one whose outcome
    // is unknown; or from an earlier one whose outcome is unknown, taking effect after the writer had
    // moved on (it was still on its way, e.g. on a member waiting for a new Raft leader, as a timed-out
    // etcd write may be): then it was written after the last acknowledged write, at a higher revision.
    const opsText = (ops: readonly Op[]): string => JSON.stringify(ops.map((o) => [o.type, o.value, o.outcome, o.reason, o.rv, Math.round(o.startMs), Math.round(o.endMs)]));
    const lost: string[] = [];
    const phantom: string[] = [];
    const refusedValues = new Set<string>();
    for (const [name, ops] of history) {
      for (const o of ops) if (o.outcome === 'notApplied' && o.value) refusedValues.add(o.value);
      const last = ops.map((o) => o.outcome).lastIndexOf('acked');
      const cur = final.get(name);
      if (cur) {
        const at = ops.findIndex((o) => o.value === cur.data?.v);
        if (at < 0 || ops[at].outcome === 'notApplied') phantom.push(`${name}=${cur.data?.v} (${JSON.stringify(ops.map((o) => [o.type, o.value, o.outcome]))})`);
        else if (at < last && !(ops[at].outcome === 'unknown' && Number(cur.metadata?.resourceVersion) > (ops[last].rv ?? Infinity))) {
          lost.push(`${name}: has ${cur.data?.v} at revision ${cur.metadata?.resourceVersion}, acknowledged later: ${ops.slice(at + 1).filter((o) => o.outcome === 'acked').map((o) => o.value ?? o.type)} (${opsText(ops)})`);
        }
      } else if (last >= 0 && ops[last].type !== 'delete' && !ops.slice(last + 1).some((o) => o.type === 'delete' && o.outcome === 'unknown')) {
        lost.push(`${name}: missing, acknowledged ${ops[last].type} ${ops[last].value} (${opsText(ops)})`);
      }
    }

    // Each watch, replayed, ends at the final list: every object's last event is its final resourceVersion.
    const finalRv = Math.max(0, ...[...final.values()].map((o) => Number(o.metadata?.resourceVersion)), ...[...history.values()].flat().filter((o) => o.type === 'delete' && o.rv).map((o) => o.rv!));
    const replay = (events: ClientWatchEvent<ConfigMap>[]): Map<string, number> => {
      const state = new Map<string, number>();
      for (const e of events) {
        if (e.type === 'DELETED') state.delete(e.object.metadata!.name!);
        else if (e.type !== 'BOOKMARK') state.set(e.object.metadata!.name!, Number(e.object.metadata?.resourceVersion));
      }
      return state;
    };
    const finalState = [...final.entries()].map(([n, o]) => [n, Number(o.metadata?.resourceVersion)]).sort();
    await waitFor(
      'every watch to reach the final state',
      () => seen.every((events) => JSON.stringify([...replay(events).entries()].sort()) === JSON.stringify(finalState)),
      20_000,
    ).catch((e: Error) => assert.fail(`${e.message}; watches ended at revisions ${seen.map((s) => s.at(-1)?.object.metadata?.resourceVersion)}, final ${finalRv}`));
    const ackedOps = [...history.entries()].flatMap(([name, ops]) => ops.filter((o) => o.outcome === 'acked').map((o) => ({ name, ...o })));
    for (const [i, events] of seen.entries()) {
      const revs = events.filter((e) => e.type !== 'BOOKMARK').map((e) => Number(e.object.metadata?.resourceVersion));
      const bad = revs.findIndex((r, j) => j > 0 && r <= revs[j - 1]);
      assert.equal(bad, -1, `watch ${i}: revision ${revs[bad]} after ${revs[bad - 1]} (a duplicate or out of order)`);
      const byRv = new Map(events.map((e) => [Number(e.object.metadata?.resourceVersion), e]));
      for (const o of ackedOps) {
        const e = byRv.get(o.rv!);
        assert.ok(e && e.object.metadata?.name === o.name && (o.type === 'delete' ? e.type === 'DELETED' : e.object.data?.v === o.value), `watch ${i} missed acknowledged ${o.type} of ${o.name} at revision ${o.rv}`);
      }
      const shown = events.find((e) => e.object.data?.v !== undefined && refusedValues.has(e.object.data.v));
      assert.equal(shown, undefined, `watch ${i} delivered a write that was refused as not applied: ${shown?.object.data?.v}`);
    }

    await assertShopIntact(endpoints, shop);
    // The cluster still takes writes after it all.
    await admin.create(configMap('after-the-kills', 'ok'));

    const all = [...history.values()].flat();
    const failed = new Map<string, number>();
    for (const o of all) if (o.outcome !== 'acked') failed.set(o.reason!, (failed.get(o.reason!) ?? 0) + 1);
    process.stdout.write(
      `# kills=${kills.length} (leaders ${kills.map((k) => k.id).join(',')}) writes=${all.length} acked=${ackedOps.length} ` +
        `failed=${JSON.stringify(Object.fromEntries(failed))} lost=${lost.length} phantom=${phantom.length} ` +
        `first acked write after each kill (ms)=${kills.map((k) => Math.round(k.firstWriteMs ?? -1)).join(',')} ` +
        `watch events=${seen.map((s) => s.length).join(',')} final objects=${final.size} elapsed=${(now() / 1000).toFixed(1)} s\n`,
    );
    assert.deepEqual(lost, [], 'acknowledged writes were lost');
    assert.deepEqual(phantom, [], 'writes refused as not applied took effect');
    assert.ok((failed.get('Unavailable (not applied)') ?? 0) > 0, 'no write failed as certainly not applied: the check above was not exercised');
    assert.ok(ackedOps.length >= ACKS_PER_STEP * (2 * KILLS + 1), `too few writes were acknowledged (${ackedOps.length})`);
    stop = true;
    for (const w of watches) w.close();
    await Promise.all(watchers);
  } catch (e) {
    const tails = cluster.members
      .map((m) => `--- master ${m.id} (${m.logFile}) ---\n${existsSync(m.logFile) ? readFileSync(m.logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)'}`)
      .join('\n');
    throw new Error(`${(e as Error).message}\n${tails}`, { cause: e });
  } finally {
    stop = true;
    for (const w of watches) w.close();
    for (const c of clients) c.close();
    await cluster.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
