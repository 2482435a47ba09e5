// One master member's parts wired together: RocksDB Raft storage, the gRPC
// Raft transport, the MVCC store as the state machine, the etcd-compatible
// server and, on the same port, the object API (navarch.apiserver.v1.Objects) and the logs and
// exec proxy to the agents (navarch.apiserver.v1.PodStreams) and the metrics gathered from them
// (navarch.apiserver.v1.Metrics).
// `navarch master` and the tests start members here.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { status as Code } from '@grpc/grpc-js';
import { entropyRandom, realClock } from '../../raft/node/ports.js';
import { RaftNode, type Member, type RaftNodeLogger } from '../../raft/node/raft_node.js';
import { RocksDbStorage } from '../../raft/storage/rocksdb_storage.js';
import { GrpcTransport } from '../../raft/transport/grpc_transport.js';
import type { TransportLogger } from '../../raft/transport/options.js';
import { ApiServer, type RequestRecord } from '../apiserver/api_server.js';
import { RaftBackend } from '../apiserver/raft_backend.js';
import { addMetrics } from '../apiserver/metrics/grpc_service.js';
import { addPodStreams } from '../apiserver/pod_streams/grpc_proxy.js';
import { EtcdServer } from '../etcdserver/server.js';
import { ObjectsForwarding } from './objects_forwarding.js';
import { keepSystemNamespaces } from './system_namespaces.js';
import { Store, StoreStateMachine, type StoreOptions, type StoreResult } from '../store/mod.js';

export interface MasterMemberOptions {
  id: number;
  name?: string;
  dataDir: string;
  /** Every member's Raft peer address. */
  peers: Member[];
  /** Every member's etcd-compatible client address, by id (shared, may be filled in later). */
  clientAddresses: Map<number, string>;
  /** This member's client listen address (port 0: any free port). */
  listenClient: string;
  clusterId?: number;
  bootstrap?: boolean;
  tickMs?: number;
  electionTicks?: number;
  /** See RaftNodeOptions.snapshotEntries. @default DEFAULT_MASTER_SNAPSHOT_ENTRIES */
  snapshotEntries?: number;
  /** See RaftNodeOptions.proposalBatchMs. @default 10 */
  proposalBatchMs?: number;
  store?: StoreOptions;
  /** Events are deleted this long after their last write. @default 3600 */
  eventTtlSeconds?: number;
  /** tolerationSeconds of the not-ready and unreachable tolerations new pods get. @default 20 */
  defaultTolerationSeconds?: number;
  progressNotifyIntervalMs?: number;
  maxWatchesPerStream?: number;
  leaseCheckIntervalMs?: number;
  logger?: RaftNodeLogger;
  onRequest?: (method: string, code: Code, seconds: number) => void;
  onProposal?: (seconds: number) => void;
  /** Called with the duration of each synced Raft storage write. */
  onSync?: (seconds: number) => void;
  /** Called once per object API request. */
  onApiRequest?: (record: RequestRecord) => void;
  /** How often watches that allow bookmarks get one. @default 60000 (Kubernetes: about a minute) */
  bookmarkIntervalMs?: number;
  /** A watch cache with no watcher for between one and two of these is closed (see ApiServer.closeIdleWatchCaches). @default 10000 */
  watchCacheIdleMs?: number;
  transportLogger?: TransportLogger;
  /**
   * While this member is the Raft leader, create the system namespaces (default, kube-system,
   * kube-public, kube-node-lease) that are missing, as Kubernetes' apiserver does. `navarch master`
   * turns it on; off by default so tests of the bare store see only their own keys. @default false
   */
  systemNamespaces?: boolean;
}

export interface MasterMember {
  id: number;
  node: RaftNode;
  store: Store;
  server: EtcdServer;
  api: ApiServer;
  clientAddress: string;
  /** Graceful: hands leadership over first unless told not to. */
  stop(options?: { transferLeadership?: boolean }): Promise<void>;
}

/** A cluster id every member derives alike from the initial peer list (etcd shows it in headers). */
export function clusterIdOf(peers: Member[]): number {
  let h = 0x811c9dc5;
  for (const p of [...peers].sort((a, b) => a.id - b.id)) {
    for (const ch of `${p.id}=${p.address};`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  }
  return h || 1;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export const DEFAULT_PROPOSAL_BATCH_MS = 10;

/** Longer would hold every write at a busy-but-not-saturated member for a noticeable time. */
export const MAX_PROPOSAL_BATCH_MS = 1000;

/**
 * A master snapshots after this many entries (etcd: 100,000), or 64 MiB of them, whichever first.
 * A snapshot encodes the whole store, its retained history included, on the main thread: at 10,000
 * entries a loaded cluster of 10,000 pods snapshotted every 5 to 10 s (each member 10 to 34 MB).
 * The log it keeps in memory and replays at a restart stays within the 64 MiB either way.
 */
export const DEFAULT_MASTER_SNAPSHOT_ENTRIES = 50_000;

export async function startMasterMember(o: MasterMemberOptions): Promise<MasterMember> {
  const self = o.peers.find((p) => p.id === o.id);
  if (!self) throw new Error(`Peers have no entry for this member's id ${o.id}`);
  mkdirSync(o.dataDir, { recursive: true });
  const clusterId = o.clusterId ?? clusterIdOf(o.peers);
  const storage = await RocksDbStorage.open(join(o.dataDir, 'raft'));
  const transport = new GrpcTransport({ id: o.id, listenAddress: self.address, clusterId, clock: realClock, logger: o.transportLogger ?? quiet });
  const store = new Store(o.store);
  const node = await RaftNode.start({
    id: o.id,
    peers: o.peers,
    bootstrap: o.bootstrap ?? true,
    storage,
    transport,
    stateMachine: new StoreStateMachine(store),
    clock: realClock,
    random: entropyRandom(),
    tickMs: o.tickMs,
    electionTicks: o.electionTicks,
    snapshotEntries: o.snapshotEntries ?? DEFAULT_MASTER_SNAPSHOT_ENTRIES,
    // A store snapshot encodes all retained history and blocks the member while it does: take one only
    // once the log since the last is as large as it, so its cost per write stays bounded as the store grows.
    snapshotLogRatio: 1,
    // Members apply the same log: without an offset all three would snapshot at the same index.
    snapshotStaggerFraction: ((o.id - 1) % 3) / 3,
    // Each write then costs a follower one append and one reply, not two of each (about 9% more
    // pods/s in bench-scheduler); followers apply up to a heartbeat (one tick) later.
    lazyCommitBroadcast: true,
    // 5,000 idle nodes renew 500 leases a second: one append each cost the idle cluster 1.27 CPU-s
    // per second; waiting up to 10 ms to share one cuts the fsyncs from about 390 to 90 a second and
    // the CPU to 0.92. A loaded leader appends every 17 to 25 ms anyway, so it seldom waits.
    proposalBatchMs: o.proposalBatchMs ?? DEFAULT_PROPOSAL_BATCH_MS,
    logger: o.logger,
    onSync: o.onSync,
  });
  const api = new ApiServer({
    backend: new RaftBackend({
      store,
      propose: async (command) => {
        const t0 = performance.now();
        const result = (await node.propose(command)) as StoreResult;
        o.onProposal?.((performance.now() - t0) / 1000);
        return result;
      },
      readIndex: () => node.readIndex(),
    }),
    onRequest: o.onApiRequest,
    eventTtlSeconds: o.eventTtlSeconds,
    defaultTolerationSeconds: o.defaultTolerationSeconds,
    onWatchCacheFailure: (resource, err) => o.logger?.warn?.(`The watch cache of ${resource} stopped (its watchers continue from the store): ${err.message}`),
  });
  const forwarding = new ObjectsForwarding({ node, clientAddresses: o.clientAddresses });
  const server = new EtcdServer({
    node,
    store,
    clusterId,
    clientAddresses: o.clientAddresses,
    names: o.name ? new Map([[o.id, o.name]]) : undefined,
    progressNotifyIntervalMs: o.progressNotifyIntervalMs,
    maxWatchesPerStream: o.maxWatchesPerStream,
    leaseCheckIntervalMs: o.leaseCheckIntervalMs,
    onRequest: o.onRequest,
    onProposal: o.onProposal,
    moreServices: (grpcServer) => {
      forwarding.register(grpcServer, api);
      addPodStreams(grpcServer, api);
      addMetrics(grpcServer, api);
    },
  });
  let port: number;
  try {
    port = await server.start(o.listenClient);
  } catch (e) {
    await node.stop({ transferLeadership: false });
    throw new Error(`Cannot listen for clients on "${o.listenClient}": ${(e as Error).message}`);
  }
  const host = o.listenClient.slice(0, o.listenClient.lastIndexOf(':'));
  const clientAddress = `${host}:${port}`;
  if (!o.clientAddresses.has(o.id)) o.clientAddresses.set(o.id, clientAddress);
  const bookmarks = setInterval(() => api.requestWatchProgress(), o.bookmarkIntervalMs ?? 60_000);
  bookmarks.unref();
  const idleCaches = setInterval(() => api.closeIdleWatchCaches(), o.watchCacheIdleMs ?? 10_000);
  idleCaches.unref();
  const namespaces = o.systemNamespaces
    ? keepSystemNamespaces({ api, isLeader: () => node.isLeader(), term: () => node.term(), onError: (err) => o.logger?.warn?.(`Cannot create the system namespaces yet: ${(err as Error).message}`) })
    : undefined;
  return {
    id: o.id,
    node,
    store,
    server,
    api,
    clientAddress,
    async stop(options = {}) {
      clearInterval(bookmarks);
      clearInterval(idleCaches);
      namespaces?.stop();
      // Clients take their next calls to another member; the ones running here finish.
      forwarding.drain();
      // Leadership goes first, so the others take over without waiting for an election timeout.
      await node.stop({ transferLeadership: options.transferLeadership !== false });
      api.closeWatches();
      forwarding.close();
      await server.stop();
    },
  };
}
