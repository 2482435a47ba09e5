// The kubelet's periodic node status report (nodeStatusReportFrequency, 5 minutes by default when
// the Lease carries the heartbeat): the Node's status rewritten with fresh heartbeat times, which
// also puts back what the node really is (Ready=True) over a condition someone else changed.

import type { Node } from '../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../raft/node/ports.js';
import type { ObjectClient } from '../controllers/client.js';
import { nodeStatus, type NodeRegistrationSpec } from './node_registration.js';
import { Periodic } from './periodic.js';
import { retryOnConflict } from './retry.js';

export interface NodeStatusReporterOptions {
  client: ObjectClient;
  clock: Clock;
  spec: NodeRegistrationSpec;
  /** @default 300000 */
  reportIntervalMs?: number;
  /** The first report is due this long after start(). @default reportIntervalMs */
  initialDelayMs?: number;
  /** Runs each report; reporters sharing one bound their calls in flight. */
  gate?: <T>(report: () => Promise<T>) => Promise<T>;
  onError?: (err: unknown) => void;
}

export class NodeStatusReporter {
  reports = 0;
  private readonly schedule: Periodic;

  constructor(private readonly o: NodeStatusReporterOptions) {
    const intervalMs = o.reportIntervalMs ?? 300_000;
    const report = () => (o.gate ? o.gate(() => this.report()) : this.report());
    this.schedule = new Periodic(`the status of node ${o.spec.nodeName}`, { clock: o.clock, intervalMs, initialDelayMs: o.initialDelayMs ?? intervalMs, onError: o.onError }, report);
  }

  get failures(): number {
    return this.schedule.failures;
  }

  start(): void {
    this.schedule.start();
  }

  stop(): void {
    this.schedule.stop();
  }

  reportNow(): Promise<void> {
    return this.schedule.runNow();
  }

  private async report(): Promise<void> {
    const { client, clock, spec } = this.o;
    await retryOnConflict(spec.maxConflictRetries ?? 5, async () => {
      const cur = await client.get<Node>('nodes', undefined, spec.nodeName);
      await client.updateStatus({ ...cur, status: nodeStatus(spec, clock.nowMs(), cur.status) });
    });
    this.reports++;
  }
}
