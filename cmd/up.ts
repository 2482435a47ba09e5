// `navarch up` / `navarch down`: a local cluster on one machine, like minikube or kind.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalKvCluster } from '../pkg/localcluster/kv_cluster.js';
import { RaftKvClient } from '../pkg/raftkv/client.js';

interface ClusterFile {
  createdAt: string;
  members: Array<{ id: number; pid: number | undefined; raft: string; kv: string; dataDir: string; log: string }>;
}

export async function runUp(flags: { dir: string; members: string }): Promise<void> {
  const dir = resolve(flags.dir);
  const file = join(dir, 'cluster.json');
  if (existsSync(file)) throw new Error(`A cluster is already recorded in ${file}: run "navarch down --dir ${flags.dir}" first`);
  const n = Number(flags.members);
  if (!Number.isInteger(n) || n < 1 || n > 7) throw new Error(`--members: "${flags.members}" must be an integer from 1 to 7`);
  mkdirSync(dir, { recursive: true });
  const cluster = await LocalKvCluster.create({ dir, members: n, detached: true });
  cluster.startAll();
  const record: ClusterFile = {
    createdAt: new Date().toISOString(),
    members: cluster.members.map((m) => ({ id: m.id, pid: m.pid, raft: m.peerAddress, kv: m.clientAddress, dataDir: m.dataDir, log: m.logFile })),
  };
  writeFileSync(file, JSON.stringify(record, null, 2));
  const client = new RaftKvClient(cluster.endpoints);
  try {
    const leader = await cluster.waitForLeader(client, 30000);
    process.stdout.write(`cluster of ${n} members is up; member ${leader} leads\n`);
    // The demo: a few writes through the leader, read back linearizably from every member.
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    for (const [k, v] of [['greeting', 'hello from navarch'], ['members', String(n)], ['started', record.createdAt]]) {
      await client.put(k, enc.encode(v));
    }
    for (const m of cluster.members) {
      const v = await client.get('greeting', { memberId: m.id });
      process.stdout.write(`member ${m.id} (${m.clientAddress}) reads greeting = ${v ? dec.decode(v) : '(missing)'}\n`);
    }
  } finally {
    client.close();
  }
  process.stdout.write(
    [
      `cluster record: ${file}`,
      ...record.members.map((m) => `  member ${m.id}: pid ${m.pid}, raft ${m.raft}, kv ${m.kv}, log ${m.log}`),
      `stop it with: make down   (or: npx tsx cmd/navarch.ts down --dir ${flags.dir})`,
      '',
    ].join('\n'),
  );
}

export async function runDown(flags: { dir: string }): Promise<void> {
  const file = join(resolve(flags.dir), 'cluster.json');
  if (!existsSync(file)) {
    process.stdout.write(`no cluster recorded in ${file}\n`);
    return;
  }
  const record = JSON.parse(readFileSync(file, 'utf8')) as ClusterFile;
  for (const m of record.members) if (m.pid) signal(m.pid, 'SIGTERM');
  const deadline = Date.now() + 10000;
  for (const m of record.members) {
    while (m.pid && alive(m.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (m.pid && alive(m.pid)) signal(m.pid, 'SIGKILL');
  }
  writeFileSync(`${file}.stopped`, readFileSync(file));
  (await import('node:fs')).rmSync(file);
  process.stdout.write(`stopped ${record.members.length} members; data kept in ${resolve(flags.dir)}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, s: NodeJS.Signals): void {
  try {
    process.kill(pid, s);
  } catch {
    // Already gone.
  }
}
