// `navctl snapshot save|restore|status`: backup and restore of the whole
// store, like `etcdctl snapshot save` and `etcdutl snapshot restore`.
// save streams one master's snapshot to a file; restore builds a new member
// data dir from it (run it once per member of the new cluster, with the same
// --peers); status prints what a file holds.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { downloadSnapshot } from '../../pkg/etcdserver/snapshot_download.js';
import { decodeSnapshotFile, sha256, verifyStoreSnapshot, SNAPSHOT_CHECKSUM_BYTES } from '../../pkg/etcdserver/snapshot_file.js';
import { restoreSnapshot } from '../../pkg/master/snapshot_restore.js';
import { parseMembers } from '../members.js';
import { agreedLeader, formatBytes, memberViews, parseMemberId, stdio, table, type Output } from './cluster.js';

/** The leader when one is known (it has applied every acknowledged write), else the first member that answers. */
async function pickEndpoint(endpoints: string[]): Promise<string> {
  const views = await memberViews(endpoints);
  const leader = views.find((v) => v.id === agreedLeader(views) && v.status);
  const pick = leader ?? views.find((v) => v.status);
  if (!pick) throw new Error(`No master answered Status: ${views.map((v) => `member ${v.id}: ${v.error}`).join('; ')}`);
  return pick.clientAddress;
}

export async function saveSnapshot(endpoints: string[], file: string, opts: { endpoint?: string }, io: Output): Promise<void> {
  const address = opts.endpoint ?? (await pickEndpoint(endpoints));
  const t0 = performance.now();
  const s = await downloadSnapshot(address, file);
  const seconds = (performance.now() - t0) / 1000;
  if (!s.linearized) {
    io.err(`Warning: member ${s.meta.memberId} could not confirm with a quorum that it had every acknowledged write; the snapshot holds what it had applied (Raft index ${s.meta.raftIndex})\n`);
  }
  io.out(`Snapshot saved to ${file}: revision ${s.meta.revision}, ${s.meta.keys} keys, ${formatBytes(s.bytes)}, from member ${s.meta.memberId} at ${address} in ${seconds.toFixed(2)} s\n`);
}

export async function restore(file: string, opts: { dataDir: string; id: string; peers: string }, io: Output): Promise<void> {
  const id = parseMemberId(opts.id, '--id');
  const peers = parseMembers('--peers', opts.peers);
  const r = await restoreSnapshot({ file, dataDir: opts.dataDir, id, peers });
  io.out(
    `Restored revision ${r.meta.revision} (${r.meta.keys} keys) into ${r.dataDir} as member ${id} of a new cluster of ${peers.length}.\n` +
      `Restore the same file for every member listed in --peers, then start each one, for example:\n` +
      `  navarch master --id ${id} --data-dir ${r.dataDir} --peers ${opts.peers} --peer-clients <id=host:port,...> --listen-client <host:port>\n`,
  );
}

export function printSnapshotStatus(file: string, format: string, io: Output): void {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new Error(`Cannot read snapshot "${file}": ${(e as Error).message}`, { cause: e });
  }
  const { meta, store } = decodeSnapshotFile(data, `snapshot "${file}"`);
  verifyStoreSnapshot(meta, store, `snapshot "${file}"`);
  const hash = sha256(data.subarray(0, data.length - SNAPSHOT_CHECKSUM_BYTES)).toString('hex').slice(0, 16);
  if (format === 'json') {
    io.out(`${JSON.stringify({ ...meta, sha256Prefix: hash, bytes: data.length }, null, 2)}\n`);
    return;
  }
  if (format !== 'table') throw new Error(`--output: "${format}" is not supported; expected "table" or "json"`);
  io.out(
    table([
      ['HASH', 'REVISION', 'COMPACTED', 'KEYS', 'SIZE', 'MEMBER', 'RAFT INDEX', 'TAKEN'],
      [hash, String(meta.revision), String(meta.compactRevision), String(meta.keys), formatBytes(data.length), String(meta.memberId), String(meta.raftIndex), new Date(meta.createdAtMs).toISOString()],
    ]),
  );
}

export function registerSnapshotCommands(program: Command, endpoints: () => string[], io: Output = stdio): void {
  const snapshot = program.command('snapshot').description('back up the whole store to a file and restore it into a new cluster');
  snapshot
    .command('save <file>')
    .description("stream one master's store to <file> (written as <file>.part, checked, then renamed)")
    .option('--endpoint <host:port>', 'the master to take it from (default: the leader)')
    .action((file: string, opts: { endpoint?: string }) => saveSnapshot(endpoints(), file, opts, io));
  snapshot
    .command('restore <file>')
    .description('create a new member data dir whose store starts as the snapshot, in a new cluster of --peers')
    .requiredOption('--data-dir <dir>', 'the new member data dir (must not exist or be empty)')
    .requiredOption('--id <id>', "this member's id in the new cluster")
    .requiredOption('--peers <list>', 'every member of the new cluster: id=host:port,... (Raft peer addresses)')
    .action((file: string, opts: { dataDir: string; id: string; peers: string }) => restore(file, opts, io));
  snapshot
    .command('status <file>')
    .description('check a snapshot file and show its revision, key count and size')
    .option('-o, --output <format>', 'table or json', 'table')
    .action((file: string, opts: { output: string }) => printSnapshotStatus(file, opts.output, io));
}
