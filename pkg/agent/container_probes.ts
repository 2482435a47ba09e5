// Connects the prober to what runs: when the runtime reports a container started, its probes begin
// (with the pod as the API shows it and the pod's IP); when it exits or is removed, they stop. A
// liveness or startup failure restarts the container through the pod workers, and readiness
// changes make the worker sync the pod so the Ready condition follows.

import type { Pod } from '../../gen/navarch/api/v1/core.js';
import type { Clock, TimerHandle } from '../../raft/node/ports.js';
import type { PodNetwork } from './cni/pod_network.js';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE } from './pods/container_config.js';
import type { PodWorkers } from './pods/pod_workers.js';
import { MAX_OUTPUT_BYTES, type ExecFn } from './probes/outcome.js';
import { ProbeManager } from './probes/probe_manager.js';
import type { ContainerRuntime, RuntimeEvent } from './runtime/runtime.js';

export interface ContainerProbesOptions {
  runtime: ContainerRuntime;
  network: PodNetwork;
  workers: Pick<PodWorkers, 'restartContainer' | 'requestSync'>;
  /** The pod as the API shows it now. */
  pod: (namespace: string, name: string) => Pod | undefined;
  clock: Clock;
  onError?: (what: string, err: unknown) => void;
}

export class ContainerProbes {
  readonly manager: ProbeManager;
  private unsubscribe: (() => void) | undefined;
  /** Runtime id -> (pod uid, container) of containers whose probes run. */
  private readonly probed = new Map<string, { podUid: string; container: string }>();

  constructor(private readonly o: ContainerProbesOptions) {
    this.manager = new ProbeManager({
      clock: o.clock,
      onRestart: (podUid, container, reason) => {
        o.workers.restartContainer(podUid, container, reason).catch((e) => o.onError?.(`restarting ${container} of pod ${podUid}`, e));
      },
      onChange: (podUid) => o.workers.requestSync(podUid),
    });
  }

  /** Subscribes to the runtime and starts probing the containers already running (agent restart). */
  async start(): Promise<void> {
    this.unsubscribe = this.o.runtime.subscribe((e) => this.onEvent(e));
    for (const c of await this.o.runtime.listContainers()) if (c.phase === 'running') await this.started(c.id);
  }

  stop(): void {
    this.unsubscribe?.();
    for (const { podUid } of this.probed.values()) this.manager.removePod(podUid);
    this.probed.clear();
  }

  private onEvent(e: RuntimeEvent): void {
    if (e.type === 'started') {
      this.started(e.id).catch((err) => this.o.onError?.(`starting probes of ${e.id}`, err));
      return;
    }
    const p = this.probed.get(e.id);
    if (p === undefined) return;
    this.probed.delete(e.id);
    this.manager.containerStopped(p.podUid, p.container);
  }

  private async started(id: string): Promise<void> {
    const c = await this.o.runtime.containerStatus(id);
    if (c === undefined || c.phase !== 'running') return;
    const pod = this.o.pod(c.labels[LABEL_POD_NAMESPACE] ?? '', c.labels[LABEL_POD_NAME] ?? '');
    if (pod?.metadata?.uid !== c.podUid) return;
    const net = await this.o.network.status(c.podUid);
    this.probed.set(id, { podUid: c.podUid, container: c.containerName });
    this.manager.containerStarted(pod, c.containerName, { containerId: id, startedAtMs: c.startedAtMs ?? this.o.clock.nowMs(), podIP: net?.ip ?? '', exec: this.execIn(id) });
  }

  /** Runs a probe command in the container; past the timeout the exec is killed and the probe fails. */
  private execIn(id: string): ExecFn {
    return async (argv, timeoutMs) => {
      const session = await this.o.runtime.exec(id, { argv, tty: false, stdin: false });
      let output = '';
      const keep = (chunk: Buffer | string): void => {
        if (output.length < MAX_OUTPUT_BYTES) output += chunk.toString();
      };
      session.stdout.on('data', keep);
      session.stderr?.on('data', keep);
      let timer: TimerHandle | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = this.o.clock.setTimeout(() => {
          session.kill().catch(() => undefined);
          reject(new Error(`command timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        const exitCode = await Promise.race([session.exit, timedOut]);
        return { exitCode, output: output.slice(0, MAX_OUTPUT_BYTES) };
      } finally {
        if (timer !== undefined) this.o.clock.clearTimeout(timer);
      }
    };
  }
}
