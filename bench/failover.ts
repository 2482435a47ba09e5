// make bench-failover: kill -9 the leader while a client writes every 10 ms;
// over 5 rounds report kill → new leader and kill → first successful write.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKvCluster } from '../pkg/localcluster/kv_cluster.js';
import { RaftKvClient } from '../pkg/raftkv/client.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-failover-'));
  const cluster = await LocalKvCluster.create({ dir, members: 3 });
  cluster.startAll();
  const admin = new RaftKvClient(cluster.endpoints, { clientId: 'admin' });
  const writer = new RaftKvClient(cluster.endpoints, { clientId: 'writer', attemptTimeoutMs: 300, requestTimeoutMs: 300 });
  const toLeader: number[] = [];
  const toWrite: number[] = [];
  let failedWrites = 0;
  let okWrites = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const leader = await cluster.waitForLeader(admin, 30000);
      let lastOk = 0;
      let stop = false;
      // A write every 10 ms, each on its own (failures do not delay the next).
      const loop = (async () => {
        let n = 0;
        const pending: Promise<void>[] = [];
        while (!stop) {
          pending.push(
            writer.put(`failover-${n++ % 100}`, new Uint8Array(128)).then(
              () => {
                okWrites++;
                lastOk = performance.now();
              },
              () => {
                failedWrites++;
              },
            ),
          );
          await new Promise((r) => setTimeout(r, 10));
        }
        await Promise.all(pending);
      })();
      await new Promise((r) => setTimeout(r, 500));
      const killedAt = performance.now();
      await cluster.kill(leader, 'SIGKILL');
      const survivors = cluster.members.filter((m) => m.id !== leader).map((m) => m.id);
      let newLeaderAt = 0;
      while (performance.now() - killedAt < 30000 && (newLeaderAt === 0 || lastOk < killedAt)) {
        if (newLeaderAt === 0) {
          for (const id of survivors) {
            const s = await admin.status(id, 200).catch(() => undefined);
            if (s && s.leader !== 0 && s.leader !== leader) {
              newLeaderAt = performance.now();
              break;
            }
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      stop = true;
      await loop;
      toLeader.push(newLeaderAt - killedAt);
      toWrite.push(lastOk - killedAt);
      process.stderr.write(`round ${round}: killed leader ${leader}; new leader after ${(newLeaderAt - killedAt).toFixed(0)} ms, first write after ${(lastOk - killedAt).toFixed(0)} ms\n`);
      cluster.start(leader);
      // Let the restarted member start and catch up, so the next round measures an idle cluster.
      const now = await cluster.waitForLeader(admin, 30000);
      const commit = (await admin.status(now)).commit;
      const deadline = Date.now() + 30000;
      while (Date.now() < deadline) {
        const s = await admin.status(leader, 200).catch(() => undefined);
        if (s && s.applied >= commit) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    admin.close();
    writer.close();
    await cluster.stopAll('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      `Navarch Raft KV failover, 3 members on 127.0.0.1, leader killed with SIGKILL, a write every 10 ms, ${ROUNDS} rounds`,
      `kill → new leader (ms):      ${toLeader.map((x) => x.toFixed(0)).join(', ')}   median ${median(toLeader).toFixed(0)}`,
      `kill → first good write (ms): ${toWrite.map((x) => x.toFixed(0)).join(', ')}   median ${median(toWrite).toFixed(0)}`,
      `writes: ${okWrites} succeeded, ${failedWrites} failed`,
      '',
    ].join('\n'),
  );
}

await main();
