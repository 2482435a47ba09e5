// The hollow process's /metrics: its own CPU and memory (prom-client's process metrics), and what
// its nodes do, read from their stats at scrape time.

import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { serveMetrics, type MetricsServer } from '../controllers/manager/metrics_server.js';
import type { HollowNodes } from './hollow_nodes.js';

export class HollowMetrics {
  readonly registry = new Registry();
  private http: MetricsServer | undefined;

  constructor(hollow: HollowNodes) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('hollow_nodes', 'Hollow nodes in this process', () => hollow.stats().nodes);
    gauge('hollow_nodes_registered', 'Hollow nodes whose Node is registered', () => hollow.stats().registered);
    gauge('hollow_node_register_failures_total', 'Failed Node registrations (retried with backoff)', () => hollow.stats().registerFailures);
    gauge('hollow_pods_running', 'Pods running (with an IP) on the hollow nodes', () => hollow.stats().podsRunning);
    gauge('hollow_pods_waiting_for_ip', "Pods waiting for a free IP in their node's pod CIDR", () => hollow.stats().podsWaitingForIp);
    gauge('hollow_node_lease_renewals_total', 'Node Lease renewals', () => hollow.stats().leaseRenewals);
    gauge('hollow_node_lease_failures_total', 'Failed node Lease writes (retried with backoff)', () => hollow.stats().leaseFailures);
    gauge('hollow_pod_status_pending', 'Pods with a status write or delete waiting or in flight', () => hollow.status.pendingCount);
    new Gauge({
      name: 'hollow_pod_status_writes_total',
      help: 'Pod status work by result: written, unchanged, conflict, dropped (queue full), failed; and final deletes',
      labelNames: ['result'],
      registers,
      collect() {
        const s = hollow.status.stats;
        for (const [result, v] of Object.entries({ written: s.written, unchanged: s.unchanged, conflict: s.conflicts, dropped: s.dropped, failed: s.failed, deleted: s.deleted })) this.set({ result }, v);
      },
    });
  }

  /** Serves GET /metrics on 127.0.0.1:port (0: any free port); resolves with the port. */
  async listen(port: number): Promise<number> {
    this.http = await serveMetrics(this.registry, port);
    return this.http.port;
  }

  close(): Promise<void> {
    return this.http ? this.http.close() : Promise.resolve();
  }
}
