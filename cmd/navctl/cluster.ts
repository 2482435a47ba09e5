// `navctl cluster members|status|transfer-leader`: the masters as etcdctl's
// member list / endpoint status / move-leader show and steer them, over the
// etcd-compatible API every master serves (Cluster.MemberList,
// Maintenance.Status, Maintenance.MoveLeader).

import { status as Code, type ServiceError } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { fetchMemberStatus, type MemberStatus } from '../../pkg/etcdserver/member_status.js';
import { EtcdRawClient } from '../../pkg/etcdserver/raw_client.js';

/** Where command output goes; tests capture it. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Output = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export interface ClusterMember {
  id: number;
  name: string;
  peerAddress: string;
  clientAddress: string;
}

/** A member unreachable for this long counts as down. */
const STATUS_TIMEOUT_MS = 2000;

const stripScheme = (url: string): string => url.replace(/^[a-z]+:\/\//, '');

function grpcMessage(e: unknown): string {
  const g = e as Partial<ServiceError>;
  const msg = g?.details || (e as Error)?.message || String(e);
  // grpc-js's "No connection established. Last error: Error: connect ECONNREFUSED …. Resolution note: …": keep the cause.
  return /Last error: (?:Error: )?(.*?)\.?(?: Resolution note.*)?$/.exec(msg)?.[1] || msg;
}

/** The member list from the first endpoint that answers. */
export async function listMembers(endpoints: string[]): Promise<ClusterMember[]> {
  if (endpoints.length === 0) throw new Error('No master endpoints configured: pass --endpoints or set them in the navctl config');
  const errors: string[] = [];
  for (const ep of endpoints) {
    const c = new EtcdRawClient(ep);
    try {
      const r = await c.call('Cluster', 'MemberList', {}, STATUS_TIMEOUT_MS);
      return (r.members as Array<{ ID: number; name: string; peerURLs: string[]; clientURLs: string[] }>).map((m) => ({
        id: Number(m.ID),
        name: m.name,
        peerAddress: stripScheme(m.peerURLs[0] ?? ''),
        clientAddress: stripScheme(m.clientURLs[0] ?? ''),
      }));
    } catch (e) {
      errors.push(`"${ep}": ${grpcMessage(e)}`);
    } finally {
      c.close();
    }
  }
  throw new Error(`No master answered: ${errors.join('; ')}`);
}

export interface MemberView extends ClusterMember {
  status?: MemberStatus;
  /** Why Status failed when it did. */
  error?: string;
}

/** Every member with its own Status (asked in parallel); names come from each member itself. */
export async function memberViews(endpoints: string[]): Promise<MemberView[]> {
  const members = await listMembers(endpoints);
  return Promise.all(
    members.map(async (m): Promise<MemberView> => {
      if (!m.clientAddress) return { ...m, error: 'its client address is unknown' };
      try {
        const status = await fetchMemberStatus(m.clientAddress, STATUS_TIMEOUT_MS);
        return { ...m, name: status.name, status };
      } catch (e) {
        return { ...m, error: grpcMessage(e) };
      }
    }),
  );
}

/** The leader most reachable members agree on (0: none known). */
export function agreedLeader(views: MemberView[]): number {
  const votes = new Map<number, number>();
  for (const v of views) if (v.status && v.status.leader !== 0) votes.set(v.status.leader, (votes.get(v.status.leader) ?? 0) + 1);
  let best = 0;
  let most = 0;
  for (const [id, n] of votes) if (n > most) [best, most] = [id, n];
  return best;
}

export function formatBytes(n: number): string {
  if (!(n > 0)) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log2(n) / 10));
  const v = n / 1024 ** i;
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('').trimEnd() + '\n').join('');
}

type OutputFormat = 'table' | 'json';

function outputFormat(v: string | undefined): OutputFormat {
  if (v === undefined || v === 'table' || v === 'json') return v ?? 'table';
  throw new Error(`--output: "${v}" is not supported; expected "table" or "json"`);
}

export async function printMembers(endpoints: string[], format: OutputFormat, io: Output): Promise<void> {
  const views = await memberViews(endpoints);
  const leader = agreedLeader(views);
  if (format === 'json') {
    const out = views.map((v) => ({ id: v.id, name: v.name, peerAddress: v.peerAddress, clientAddress: v.clientAddress, isLeader: v.id === leader, reachable: !!v.status, error: v.error }));
    io.out(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const rows = [['ID', 'NAME', 'PEER ADDRESS', 'CLIENT ADDRESS', 'LEADER', 'REACHABLE']];
  for (const v of views) rows.push([String(v.id), v.name, v.peerAddress, v.clientAddress, v.id === leader ? 'yes' : 'no', v.status ? 'yes' : `no (${v.error})`]);
  io.out(table(rows));
}

export async function printStatus(endpoints: string[], format: OutputFormat, io: Output): Promise<void> {
  const views = await memberViews(endpoints);
  if (format === 'json') {
    const out = views.map((v) => ({ id: v.id, name: v.name, clientAddress: v.clientAddress, reachable: !!v.status, error: v.error, ...(v.status ?? {}) }));
    io.out(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const rows = [['ID', 'NAME', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'REVISION', 'DB SIZE', 'QUOTA', 'ERRORS']];
  for (const v of views) {
    const s = v.status;
    if (!s) {
      rows.push([String(v.id), v.name, 'unreachable', '', '', '', '', '', '', '', v.error ?? '']);
      continue;
    }
    rows.push([
      String(v.id),
      v.name,
      s.role,
      String(s.term),
      String(s.leader || 'none'),
      String(s.commitIndex),
      String(s.appliedIndex),
      String(s.revision),
      formatBytes(s.dbSizeBytes),
      s.quotaBytes ? `${formatBytes(s.quotaBytes)} (${((100 * s.dbSizeInUseBytes) / s.quotaBytes).toFixed(1)}% used)` : '',
      s.errors.join(', '),
    ]);
  }
  io.out(table(rows));
}

export function parseMemberId(v: string, what: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) throw new Error(`${what}: "${v}" is not a member id (a positive integer)`);
  return n;
}

/**
 * Asks the leader to hand over (Maintenance.MoveLeader) and waits until the
 * target reports itself leader. If leadership moves elsewhere meanwhile, it
 * finds the new leader and asks again, until timeoutMs.
 */
export async function transferLeader(endpoints: string[], target: number, timeoutMs: number, io: Output): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await memberViews(endpoints);
    const to = views.find((v) => v.id === target);
    if (!to) throw new Error(`<id>: ${target} is not a member; members are ${views.map((v) => v.id).join(', ')}`);
    if (!to.status) throw new Error(`Cannot hand leadership to member ${target}: it is unreachable at "${to.clientAddress}": ${to.error}`);
    const from = views.find((v) => v.status?.role === 'leader');
    if (from?.id === target) {
      io.out(`Member ${target} (${to.name}) already leads (term ${to.status.term})\n`);
      return;
    }
    if (from) {
      const c = new EtcdRawClient(from.clientAddress);
      try {
        await c.call('Maintenance', 'MoveLeader', { targetID: target }, Math.max(500, deadline - Date.now()));
        const s = await waitUntilLeads(to.clientAddress, target, deadline);
        io.out(`Leadership moved from member ${from.id} (${from.name}) to member ${target} (${to.name}) at term ${s.term}\n`);
        return;
      } catch (e) {
        const g = e as Partial<ServiceError>;
        // Leadership moved by itself between Status and MoveLeader: look again.
        const retry = g.code === Code.FAILED_PRECONDITION && g.details === 'etcdserver: not leader';
        if (!retry || Date.now() >= deadline) throw new Error(`Cannot hand leadership from member ${from.id} to member ${target}: ${grpcMessage(e)}`);
      } finally {
        c.close();
      }
    } else if (Date.now() >= deadline) {
      throw new Error(`Cannot hand leadership to member ${target}: no member reports itself leader within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitUntilLeads(address: string, id: number, deadline: number): Promise<MemberStatus> {
  for (;;) {
    const s = await fetchMemberStatus(address, STATUS_TIMEOUT_MS).catch(() => undefined);
    if (s?.role === 'leader' && s.leader === id) return s;
    if (Date.now() >= deadline) throw new Error(`member ${id} did not report itself leader in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseSeconds(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${flag}: "${v}" is not a positive number of seconds`);
  return n * 1000;
}

export function registerClusterCommands(program: Command, endpoints: () => string[], io: Output = stdio): void {
  const cluster = program.command('cluster').description('the masters: members, their Raft and store status, leadership');
  cluster
    .command('members')
    .description('every master: id, name, peer (Raft) address, client address, whether it leads, whether it answers')
    .option('-o, --output <format>', 'table or json', 'table')
    .action((opts: { output?: string }) => printMembers(endpoints(), outputFormat(opts.output), io));
  cluster
    .command('status')
    .description("every master's role, term, leader, Raft commit and applied index, store revision, size and quota")
    .option('-o, --output <format>', 'table or json', 'table')
    .action((opts: { output?: string }) => printStatus(endpoints(), outputFormat(opts.output), io));
  cluster
    .command('transfer-leader <id>')
    .description('hand leadership to the member with this id and wait until it leads')
    .option('--timeout <seconds>', 'give up after this long', '10')
    .action((id: string, opts: { timeout: string }) => transferLeader(endpoints(), parseMemberId(id, '<id>'), parseSeconds('--timeout', opts.timeout), io));
}
