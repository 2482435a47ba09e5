// etcd's Maintenance service over one member: Status, Alarm, Defragment,
// HashKV, MoveLeader and Snapshot (a server stream of our own backup format,
// see snapshot_file.ts, ending with its SHA-256 as etcd's does).
//
// Status also sends initial metadata etcd's message has no field for:
// navarch-quota-bytes, navarch-member-name and navarch-role (navctl shows them).

import { crc32 } from 'node:zlib';
import {
  Metadata,
  status as Code,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { RaftTimeoutError } from '../../raft/node/errors.js';
import { ALL_KEYS_FROM, keyToBytes } from '../store/mod.js';
import type { Msg } from './convert.js';
import { ERR_NO_LEADER, grpcError, toGrpcError } from './errors.js';
import { malformedRequest } from './malformed.js';
import type { EtcdServerOptions } from './server.js';
import { encodeSnapshotBody, sha256, type SnapshotMeta } from './snapshot_file.js';

export const ERR_NOT_LEADER = 'etcdserver: not leader';
export const ERR_BAD_LEADER_TRANSFEREE = 'etcdserver: bad leader transferee';
export const ERR_LEADER_TRANSFER_TIMEOUT = 'etcdserver: request timed out, leader transfer took too long';

/** etcdserverpb.AlarmType */
export const ALARM_NONE = 0;
export const ALARM_NOSPACE = 1;
/** etcdserverpb.AlarmRequest.AlarmAction */
const ACTION_GET = 0;
const ACTION_DEACTIVATE = 2;

/** etcd's chunk size: a few OS pages per message. */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
/** Each snapshot stream holds a full copy of the store in memory while it runs. */
const MAX_CONCURRENT_SNAPSHOTS = 2;
/** How long a snapshot waits to confirm it reflects every acknowledged write before sending what this member has. */
const SNAPSHOT_READ_INDEX_TIMEOUT_MS = 2000;
/** HashKV reads the keyspace in pages of this many keys. */
const HASH_PAGE_KEYS = 1000;
/** A MoveLeader without a deadline waits this long for the transferee to lead. */
const DEFAULT_MOVE_LEADER_TIMEOUT_MS = 5000;

/** What the service needs from EtcdServer (a structural view, so this file does not import it). */
export interface MaintenanceHost {
  readonly o: Pick<EtcdServerOptions, 'node' | 'store' | 'clusterId' | 'names' | 'onRequest'>;
  readonly now: () => number;
  header(revision: number): Msg;
}

/**
 * NOSPACE is raised while less than this share of the quota is free. Our
 * store refuses a write that would pass the quota instead of letting the
 * disk fill, so there is no "exceeded" state to latch: the alarm follows
 * the free space and clears by itself once compaction or deletes free it.
 */
const NOSPACE_FREE_FRACTION = 0.05;

export function spaceAlarmActive(sizeBytes: number, quotaBytes: number): boolean {
  return quotaBytes - sizeBytes < quotaBytes * NOSPACE_FREE_FRACTION;
}

export function maintenanceService(host: MaintenanceHost, version: string): UntypedServiceImplementation {
  let snapshots = 0;
  const node = () => host.o.node;
  const store = () => host.o.store;

  const record = (method: string, code: Code, t0: number) => host.o.onRequest?.(method, code, (performance.now() - t0) / 1000);

  function unary(method: string, fn: (req: Msg, call: ServerUnaryCall<Msg, Msg>) => Promise<Msg> | Msg) {
    return (call: ServerUnaryCall<Msg, Msg>, cb: sendUnaryData<Msg>): void => {
      const t0 = performance.now();
      Promise.resolve()
        .then(() => {
          const malformed = malformedRequest(call.request);
          if (malformed) throw malformed;
          return fn(call.request, call);
        })
        .then(
          (res) => {
            record(method, Code.OK, t0);
            cb(null, res);
          },
          (e) => {
            const err = toGrpcError(e);
            record(method, err.code, t0);
            cb(err);
          },
        );
    };
  }

  /** Every member's NOSPACE alarm: the store is replicated, so when one is short of space all are. */
  function alarms(): Msg[] {
    const st = store().status();
    if (!spaceAlarmActive(st.sizeBytes, st.quotaBytes)) return [];
    return node()
      .status()
      .members.map((m) => ({ memberID: m.id, alarm: ALARM_NOSPACE }));
  }

  function status(_req: Msg, call: ServerUnaryCall<Msg, Msg>): Msg {
    const n = node();
    const s = n.status();
    const st = store().status();
    const errors: string[] = [];
    if (s.lead === 0) errors.push(ERR_NO_LEADER);
    // As etcd prints an AlarmMember.
    for (const a of alarms()) errors.push(`memberID:${a.memberID} alarm:NOSPACE `);
    const md = new Metadata();
    md.set('navarch-quota-bytes', String(st.quotaBytes));
    md.set('navarch-member-name', host.o.names?.get(n.id) ?? `member-${n.id}`);
    md.set('navarch-role', s.role);
    call.sendMetadata(md);
    return {
      header: host.header(st.revision),
      version,
      // The store lives in memory and is rebuilt from the Raft log at start; what it holds is what counts.
      dbSize: st.sizeBytes,
      leader: s.lead,
      raftIndex: s.commit,
      raftTerm: s.term,
      raftAppliedIndex: s.applied,
      errors,
      dbSizeInUse: st.sizeBytes,
      isLearner: !s.confState.voters.includes(s.id),
    };
  }

  function alarm(r: Msg): Msg {
    const header = host.header(store().revision);
    const action = r.action ?? ACTION_GET;
    const want = (a: Msg) => (!r.memberID || a.memberID === r.memberID) && (!r.alarm || a.alarm === r.alarm);
    if (action === ACTION_GET) return { header, alarms: alarms().filter(want) };
    // Nothing to disarm: NOSPACE follows the free space and clears by itself.
    if (action === ACTION_DEACTIVATE) return { header, alarms: [] };
    throw grpcError(Code.INVALID_ARGUMENT, `etcdserver: alarm action ${JSON.stringify(action)} is not supported: alarms are raised by the store itself`);
  }

  async function moveLeader(r: Msg, call: ServerUnaryCall<Msg, Msg>): Promise<Msg> {
    const n = node();
    // etcd answers only on the leader; the client finds it through Status.
    if (!n.isLeader()) throw grpcError(Code.FAILED_PRECONDITION, ERR_NOT_LEADER, n.leaderId());
    const target = Number(r.targetID ?? 0);
    if (!n.status().confState.voters.includes(target)) throw grpcError(Code.FAILED_PRECONDITION, ERR_BAD_LEADER_TRANSFEREE);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const timeoutMs = Number.isFinite(deadlineMs) ? Math.max(1, deadlineMs - Date.now() - 50) : DEFAULT_MOVE_LEADER_TIMEOUT_MS;
    try {
      await n.transferLeadership(target, timeoutMs);
    } catch (e) {
      if (e instanceof RaftTimeoutError) throw grpcError(Code.UNAVAILABLE, ERR_LEADER_TRANSFER_TIMEOUT);
      throw e;
    }
    return { header: host.header(store().revision) };
  }

  /**
   * CRC-32 of every live key at the revision (key, value, create and mod
   * revision, version, lease): members that applied the same log agree.
   */
  function hashKV(r: Msg): Msg {
    const s = store();
    const revision = r.revision || s.revision;
    let hash = 0;
    let from = ALL_KEYS_FROM;
    const fields = Buffer.alloc(40);
    for (;;) {
      const page = s.range({ key: from, rangeEnd: ALL_KEYS_FROM, revision, limit: HASH_PAGE_KEYS });
      for (const kv of page.kvs) {
        hash = crc32(keyToBytes(kv.key), hash);
        hash = crc32(kv.value, hash);
        fields.writeDoubleBE(kv.createRevision, 0);
        fields.writeDoubleBE(kv.modRevision, 8);
        fields.writeDoubleBE(kv.version, 16);
        fields.writeDoubleBE(kv.lease, 24);
        fields.writeDoubleBE(kv.value.byteLength, 32);
        hash = crc32(fields, hash);
      }
      if (!page.more || page.kvs.length === 0) break;
      from = page.kvs[page.kvs.length - 1].key + '\0';
    }
    return { header: host.header(s.revision), hash, compact_revision: s.compactRevision };
  }

  /** Waits for ReadIndex (so the snapshot holds every write acknowledged before it), giving up after a bound: a member cut off from the quorum still serves its state, as etcd's does. */
  async function linearized(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), SNAPSHOT_READ_INDEX_TIMEOUT_MS)));
    try {
      return await Promise.race([
        node()
          .readIndex()
          .then(
            () => true,
            () => false,
          ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  function takeSnapshot(): { meta: SnapshotMeta; body: Buffer } {
    // One synchronous turn: the store, the counts and the applied index are of the same moment.
    const n = node();
    const s = store();
    const ns = n.status();
    const keys = s.range({ key: ALL_KEYS_FROM, rangeEnd: ALL_KEYS_FROM, countOnly: true }).count;
    const st = s.status();
    const meta = {
      memberId: n.id,
      clusterId: host.o.clusterId,
      revision: st.revision,
      compactRevision: st.compactRevision,
      keys,
      raftIndex: ns.applied,
      raftTerm: ns.term,
      createdAtMs: Math.floor(host.now()),
    };
    const storeBytes = s.snapshot();
    return { meta: { ...meta, storeBytes: storeBytes.byteLength }, body: encodeSnapshotBody(meta, storeBytes) };
  }

  async function snapshot(call: ServerWritableStream<Msg, Msg>): Promise<void> {
    const t0 = performance.now();
    let cancelled = false;
    let wake: (() => void) | undefined;
    call.on('cancelled', () => {
      cancelled = true;
      wake?.();
    });
    const fail = (e: unknown) => {
      const err = toGrpcError(e);
      record('Snapshot', err.code, t0);
      if (!cancelled) call.emit('error', err);
    };
    const malformed = malformedRequest(call.request);
    if (malformed) {
      fail(malformed);
      return;
    }
    if (snapshots >= MAX_CONCURRENT_SNAPSHOTS) {
      fail(grpcError(Code.RESOURCE_EXHAUSTED, `etcdserver: too many requests: ${MAX_CONCURRENT_SNAPSHOTS} snapshots are already being sent from this member`));
      return;
    }
    snapshots++;
    try {
      const md = new Metadata();
      md.set('navarch-snapshot-linearized', String(await linearized()));
      const { body } = takeSnapshot();
      call.sendMetadata(md);
      const header = host.header(store().revision);
      const send = async (msg: Msg): Promise<void> => {
        if (call.write(msg)) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
          call.once('drain', resolve);
        });
        wake = undefined;
      };
      for (let sent = 0; sent < body.length && !cancelled; ) {
        const blob = body.subarray(sent, sent + SNAPSHOT_CHUNK_BYTES);
        sent += blob.length;
        await send({ header: sent === blob.length ? header : undefined, remaining_bytes: body.length - sent, blob });
      }
      if (cancelled) {
        record('Snapshot', Code.CANCELLED, t0);
        return;
      }
      await send({ remaining_bytes: 0, blob: sha256(body) });
      call.end();
      record('Snapshot', Code.OK, t0);
    } catch (e) {
      fail(e);
    } finally {
      snapshots--;
    }
  }

  return {
    Status: unary('Status', status),
    Alarm: unary('Alarm', alarm),
    // Our store never needs defragmenting: it is rebuilt in memory from Raft at start and
    // compaction frees space at once. Succeeds so that etcd tooling that runs it carries on.
    Defragment: unary('Defragment', () => ({ header: host.header(store().revision) })),
    HashKV: unary('HashKV', hashKV),
    MoveLeader: unary('MoveLeader', moveLeader),
    Snapshot: (call: ServerWritableStream<Msg, Msg>) => void snapshot(call),
  };
}
