// A master's /metrics: process metrics, Raft figures read at scrape time,
// proposal latency, store size, and gRPC requests by method and code; beside it its health checks.

import { status as Code } from '@grpc/grpc-js';
import { AggregatorRegistry, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LabeledCounter, LabeledHistogram, type HistogramChild } from '../metrics/labeled.js';
import type { RaftNode } from '../../raft/node/raft_node.js';
import type { RequestRecord } from '../apiserver/api_server.js';
import type { Store } from '../store/mod.js';
import type { HealthEndpoints } from '../healthz/healthz.js';
import { serveMetrics, type MetricsServer } from '../controllers/manager/metrics_server.js';

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class MasterMetrics {
  readonly registry = new Registry();
  // Observed on every request and Raft write: labeled.ts, not prom-client's own.
  private readonly requests: LabeledCounter<'method' | 'code'>;
  private readonly requestSeconds: LabeledHistogram<'method'>;
  private readonly proposalSeconds: LabeledHistogram;
  private readonly proposals: HistogramChild;
  private readonly fsyncSeconds: LabeledHistogram;
  private readonly fsyncs: HistogramChild;
  private readonly apiRequests: LabeledCounter<'verb' | 'resource' | 'subresource' | 'code'>;
  private readonly apiRequestSeconds: LabeledHistogram<'verb' | 'resource'>;
  private source: { node: RaftNode; store: Store } | undefined;
  private readonly more: Array<() => readonly Registry[]> = [];
  private http: MetricsServer | undefined;
  /** /healthz, /livez and /readyz on the metrics address (none until set). */
  health: HealthEndpoints = {};

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new LabeledCounter({ name: 'navarch_grpc_requests_total', help: 'etcd-compatible gRPC requests (streams count once, when they end)', labelNames: ['method', 'code'], registers });
    this.requestSeconds = new LabeledHistogram({ name: 'navarch_grpc_request_duration_seconds', help: 'etcd-compatible gRPC request latency', labelNames: ['method'], buckets: LATENCY_BUCKETS_S, registers });
    this.proposalSeconds = new LabeledHistogram({ name: 'navarch_raft_proposal_duration_seconds', help: 'From proposing a write to its result on the leader', buckets: LATENCY_BUCKETS_S, registers });
    this.proposals = this.proposalSeconds.child();
    this.fsyncSeconds = new LabeledHistogram({ name: 'navarch_raft_fsync_duration_seconds', help: 'Synced Raft log writes (entries and hard state, one RocksDB WriteBatch with sync)', buckets: LATENCY_BUCKETS_S, registers });
    this.fsyncs = this.fsyncSeconds.child();
    this.apiRequests = new LabeledCounter({
      name: 'apiserver_request_total',
      help: 'Object API requests by verb, resource, subresource and result code (a watch counts when it opens)',
      labelNames: ['verb', 'resource', 'subresource', 'code'],
      registers,
    });
    this.apiRequestSeconds = new LabeledHistogram({ name: 'apiserver_request_duration_seconds', help: 'Object API request latency (a watch: the time to open it)', labelNames: ['verb', 'resource'], buckets: LATENCY_BUCKETS_S, registers });
    const gauge = (name: string, help: string, read: (n: RaftNode, s: Store) => number): void => {
      const self = this;
      new Gauge({
        name,
        help,
        registers,
        collect() {
          if (self.source) this.set(read(self.source.node, self.source.store));
        },
      });
    };
    gauge('navarch_raft_term', 'Current Raft term', (n) => n.status().term);
    gauge('navarch_raft_commit_index', 'Raft commit index', (n) => n.status().commit);
    gauge('navarch_raft_applied_index', 'Raft applied index', (n) => n.status().applied);
    gauge('navarch_raft_leader', 'Id of the leader this member knows (0: none)', (n) => n.leaderId());
    gauge('navarch_raft_is_leader', '1 when this member leads', (n) => (n.isLeader() ? 1 : 0));
    gauge('navarch_raft_leader_changes', 'Leader changes this member has seen since it started', (n) => n.stats.leaderChanges);
    gauge('navarch_raft_syncs', 'Synced storage writes since start', (n) => n.stats.syncs);
    gauge('navarch_raft_snapshots_taken', 'Snapshots taken since start', (n) => n.stats.snapshotsTaken);
    gauge('navarch_raft_apply_yields', 'Times applying a committed batch gave the event loop a turn (it had run applyTurnMs) since start', (n) => n.stats.applyYields);
    gauge('navarch_store_revision', 'MVCC store revision', (_n, s) => s.revision);
    gauge('navarch_store_compact_revision', 'Oldest revision still readable', (_n, s) => s.compactRevision);
    gauge('navarch_store_size_bytes', 'Bytes the quota counts', (_n, s) => s.sizeBytes);
    gauge('navarch_store_quota_bytes', 'Store space quota', (_n, s) => s.quotaBytes);
    gauge('navarch_store_watchers', 'Open watchers', (_n, s) => s.status().watchers);
    gauge('navarch_store_leases', 'Leases held', (_n, s) => s.status().leases);
  }

  attach(node: RaftNode, store: Store): void {
    this.source = { node, store };
  }

  /**
   * Registries served on /metrics beside this one, asked at every scrape: the scheduler's and the
   * controllers' (a new one each leadership term, so their metrics register afresh).
   */
  addRegistries(source: () => readonly Registry[]): void {
    this.more.push(source);
  }

  /** The exposition text of this registry and every added one (families of the same name merged). */
  async metrics(): Promise<string> {
    const extra = this.more.flatMap((f) => f());
    if (extra.length === 0) return this.registry.metrics();
    const all = await Promise.all([this.registry, ...extra].map((r) => r.getMetricsAsJSON()));
    return AggregatorRegistry.aggregate(all).metrics();
  }

  onRequest = (method: string, code: Code, seconds: number): void => {
    this.requests.inc(this.requests.child(method, Code[code] ?? String(code)));
    this.requestSeconds.observe(this.requestSeconds.child(method), seconds);
  };

  onApiRequest = (r: RequestRecord): void => {
    this.apiRequests.inc(this.apiRequests.child(r.verb, r.resource, r.subresource, r.code));
    this.apiRequestSeconds.observe(this.apiRequestSeconds.child(r.verb, r.resource), r.seconds);
  };

  onSync = (seconds: number): void => {
    this.fsyncSeconds.observe(this.fsyncs, seconds);
  };

  onProposal = (seconds: number): void => {
    this.proposalSeconds.observe(this.proposals, seconds);
  };

  /** Serves GET /metrics (and the health endpoints) on host:port; resolves with the bound port. */
  async listen(address: string): Promise<number> {
    const i = address.lastIndexOf(':');
    const host = address.slice(0, i);
    const port = Number(address.slice(i + 1));
    if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid metrics address "${address}": expected host:port`);
    this.http = await serveMetrics({ metrics: () => this.metrics(), contentType: this.registry.contentType }, port, host, () => this.health);
    return this.http.port;
  }

  async close(): Promise<void> {
    const s = this.http;
    this.http = undefined;
    await s?.close();
  }
}
