// make bench-failover: kill -9 the leader while a client writes every 10 ms;
// over 5 rounds report kill → new leader and kill → first successful write,
// for Navarch and (when installed) etcd in the same run.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKvCluster } from '../pkg/localcluster/kv_cluster.js';
import { RaftKvClient } from '../pkg/raftkv/client.js';
import { EtcdPutClient, etcdAvailable, etcdStatus, startEtcd } from './etcd_peer.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MEMBERS = [0, 1, 2];

/** What a round needs from a 3-member system; members are 0, 1, 2. */
interface System {
  name: string;
  put(key: string): Promise<unknown>;
  /** The member that a live member names leader, or undefined while there is none. */
  leader(excluding?: number): Promise<number | undefined>;
  kill(member: number): Promise<void>;
  restart(member: number): void;
  /** Resolves when the restarted member serves again and has caught up. */
  settled(member: number): Promise<void>;
  close(): Promise<void>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(5);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function navarch(dir: string): Promise<System> {
  const cluster = await LocalKvCluster.create({ dir, members: 3 });
  cluster.startAll();
  const admin = new RaftKvClient(cluster.endpoints, { clientId: 'admin' });
  const writer = new RaftKvClient(cluster.endpoints, { clientId: 'writer', attemptTimeoutMs: 300, requestTimeoutMs: 300 });
  const id = (m: number): number => m + 1;
  const leader = async (excluding?: number): Promise<number | undefined> => {
    for (const m of MEMBERS) {
      if (m === excluding || !cluster.isRunning(id(m))) continue;
      const s = await admin.status(id(m), 200).catch(() => undefined);
      if (s && s.leader !== 0 && s.leader - 1 !== excluding) return s.leader - 1;
    }
    return undefined;
  };
  return {
    name: 'Navarch',
    put: (key) => writer.put(key, new Uint8Array(128)),
    leader,
    kill: (m) => cluster.kill(id(m), 'SIGKILL'),
    restart: (m) => cluster.start(id(m)),
    async settled(m) {
      const l = await poll('a leader', () => leader());
      const commit = (await admin.status(id(l))).commit;
      await poll(`member ${id(m)} to catch up`, async () => ((await admin.status(id(m), 200)).applied >= commit ? true : undefined));
    },
    async close() {
      admin.close();
      writer.close();
      await cluster.stopAll('SIGKILL');
    },
  };
}

async function etcd(dir: string): Promise<System> {
  const e = await startEtcd(dir);
  const writer = new EtcdPutClient(e.endpoints);
  await writer.ready();
  const ids = await Promise.all(e.endpoints.map(async (ep) => (await poll('etcd status', () => etcdStatus(ep))).memberId));
  const alive = new Set(MEMBERS);
  const leader = async (excluding?: number): Promise<number | undefined> => {
    for (const m of MEMBERS) {
      if (m === excluding || !alive.has(m)) continue;
      const s = await etcdStatus(e.endpoints[m]).catch(() => undefined);
      const l = s ? ids.indexOf(s.leader) : -1;
      if (l >= 0 && l !== excluding) return l;
    }
    return undefined;
  };
  return {
    name: 'etcd',
    put: (key) => writer.put(key, new Uint8Array(128), 300),
    leader,
    async kill(m) {
      alive.delete(m);
      await e.kill(m);
    },
    restart(m) {
      alive.add(m);
      e.restart(m);
    },
    async settled(m) {
      await poll(`etcd member ${m} to serve`, () => etcdStatus(e.endpoints[m]).then((s) => (s.leader !== 0n ? true : undefined)));
    },
    async close() {
      writer.close();
      await e.stop();
    },
  };
}

async function rounds(sys: System): Promise<{ toLeader: number[]; toWrite: number[]; ok: number; failed: number }> {
  const toLeader: number[] = [];
  const toWrite: number[] = [];
  let ok = 0;
  let failed = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const leader = await poll('a leader', () => sys.leader());
    let lastOk = 0;
    let stop = false;
    // A write every 10 ms, each on its own, so a failing write does not delay the next.
    const loop = (async () => {
      let n = 0;
      const pending: Promise<void>[] = [];
      while (!stop) {
        pending.push(
          sys.put(`failover-${n++ % 100}`).then(
            () => {
              ok++;
              lastOk = performance.now();
            },
            () => {
              failed++;
            },
          ),
        );
        await sleep(10);
      }
      await Promise.all(pending);
    })();
    await sleep(500);
    const killedAt = performance.now();
    await sys.kill(leader);
    let newLeaderAt = 0;
    while (performance.now() - killedAt < 30000 && (newLeaderAt === 0 || lastOk < killedAt)) {
      if (newLeaderAt === 0 && (await sys.leader(leader)) !== undefined) newLeaderAt = performance.now();
      await sleep(5);
    }
    stop = true;
    await loop;
    toLeader.push(newLeaderAt - killedAt);
    toWrite.push(lastOk - killedAt);
    process.stderr.write(`${sys.name} round ${round}: new leader after ${(newLeaderAt - killedAt).toFixed(0)} ms, first write after ${(lastOk - killedAt).toFixed(0)} ms\n`);
    sys.restart(leader);
    await sys.settled(leader);
    await sleep(1000);
  }
  return { toLeader, toWrite, ok, failed };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-failover-'));
  const lines = [`Failover, 3 members on 127.0.0.1, leader killed with SIGKILL, a write every 10 ms (300 ms timeout), ${ROUNDS} rounds`];
  try {
    const makers = [() => navarch(join(dir, 'navarch'))];
    if (etcdAvailable()) makers.push(() => etcd(join(dir, 'etcd')));
    const medians: number[] = [];
    for (const make of makers) {
      const sys = await make();
      try {
        const r = await rounds(sys);
        medians.push(median(r.toWrite));
        lines.push(
          `${sys.name}: kill → new leader ms ${r.toLeader.map((x) => x.toFixed(0)).join(', ')} (median ${median(r.toLeader).toFixed(0)}); ` +
            `kill → first good write ms ${r.toWrite.map((x) => x.toFixed(0)).join(', ')} (median ${median(r.toWrite).toFixed(0)}); ` +
            `writes ${r.ok} ok, ${r.failed} failed`,
        );
      } finally {
        await sys.close();
      }
    }
    if (medians.length === 2) lines.push(`ratio of medians, kill → first good write, Navarch/etcd: ${(medians[0] / medians[1]).toFixed(2)}`);
    else lines.push('etcd is not installed (apt-get install etcd-server): no peer figures in this run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
