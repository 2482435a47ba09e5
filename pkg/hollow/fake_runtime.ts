// The runtime of one hollow node, in the manner of kubemark's fake one: a pod bound to the node
// "starts" at once (Running, Ready, containers running, a pod IP from the node's CIDR); a pod
// marked for deletion "stops" at once and is deleted with grace 0, as the kubelet finishes a
// graceful delete; its IP is freed when the pod is gone. Level-triggered: each sighting of a pod
// (watch event or resync) compares what the API shows with what the node runs and queues a
// status write only when they differ.

import type { Container, ContainerStatus, Pod, PodStatus } from '../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../raft/node/ports.js';
import { addAmounts, admit, allocatableAmounts, podRequests, rejectedStatus, type ResourceAmounts } from '../agent/admission.js';
import type { NodeResources } from '../agent/node_registration.js';
import type { NodePodHandler } from '../agent/pod_source.js';
import type { StatusManager } from '../agent/status_manager.js';
import { rfc3339 } from '../agent/timestamps.js';
import type { PodIpAllocator } from './address_plan.js';

export interface FakeRuntimeOptions {
  nodeName: string;
  hostIP: string;
  ips: PodIpAllocator;
  clock: Clock;
  status: StatusManager;
  /** Pods whose requests do not fit beside the admitted ones fail (OutOfcpu, ...). Absent: no check. */
  allocatable?: NodeResources;
  /** The pods bound to this node as last seen: when an IP is freed, pods waiting for one are retried. */
  listPods?: () => readonly Pod[];
}

interface RunningPod {
  startedMs: number;
  ip: string | undefined;
  requests: ResourceAmounts;
}

export class FakeRuntime implements NodePodHandler {
  private readonly pods = new Map<string, RunningPod>();
  /** Refused at admission: they stay Failed (uid -> status). */
  private readonly rejected = new Map<string, ReturnType<typeof rejectedStatus>>();
  private readonly allocatable: ResourceAmounts | undefined;
  private used: ResourceAmounts = { cpu: 0, memory: 0, ephemeralStorage: 0, pods: 0 };
  private ready = false;

  constructor(private readonly o: FakeRuntimeOptions) {
    this.allocatable = o.allocatable ? allocatableAmounts(o.allocatable) : undefined;
  }

  /** Pods running (with an IP) and waiting for one. */
  get counts(): { running: number; waitingForIp: number } {
    let waitingForIp = 0;
    for (const p of this.pods.values()) if (p.ip === undefined) waitingForIp++;
    return { running: this.pods.size - waitingForIp, waitingForIp };
  }

  /**
   * Until the first list is complete, pods are only adopted (the IPs they hold claimed), so a new
   * pod is never given an address an existing one, listed later, already has. Then `pods`, every
   * pod bound to the node, are synced.
   */
  markReady(pods: readonly Pod[]): void {
    this.ready = true;
    for (const p of pods) this.onPod(p);
  }

  onPod(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (!this.ready) {
      if (!this.pods.has(uid)) this.adopt(pod);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      this.o.status.deletePod(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Finished (or refused): it holds no resources and no IP any more.
      this.forget(uid);
      return;
    }
    const refused = this.rejected.get(uid);
    if (refused !== undefined) {
      this.o.status.setPodStatus(pod, refused);
      return;
    }
    let rec = this.pods.get(uid);
    if (rec === undefined) {
      rec = this.adopt(pod);
      if (rec === undefined) {
        const requests = podRequests(pod);
        const verdict = this.allocatable ? admit(requests, this.used, this.allocatable) : ({ admit: true } as const);
        if (!verdict.admit) {
          const status = rejectedStatus(verdict.reason, verdict.message);
          this.rejected.set(uid, status);
          this.o.status.setPodStatus(pod, status);
          return;
        }
        rec = { startedMs: this.o.clock.nowMs(), ip: undefined, requests };
        this.pods.set(uid, rec);
        this.used = addAmounts(this.used, requests);
      }
    }
    // A host-network pod shares the node's address; it takes none from the pod CIDR.
    rec.ip ??= pod.spec?.hostNetwork ? this.o.hostIP : this.o.ips.allocate(uid);
    if (rec.ip !== undefined && this.showsRunning(pod, rec.ip)) return;
    this.o.status.setPodStatus(pod, this.statusOf(pod, rec));
  }

  onPodGone(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.rejected.delete(uid);
    const had = this.forget(uid);
    if (had?.ip === undefined || !this.ready || this.o.listPods === undefined) return;
    for (const p of this.o.listPods()) {
      const rec = this.pods.get(p.metadata?.uid ?? '');
      if (rec !== undefined && rec.ip === undefined) {
        this.onPod(p);
        break;
      }
    }
  }

  private forget(uid: string): RunningPod | undefined {
    const had = this.pods.get(uid);
    if (had === undefined) return undefined;
    this.pods.delete(uid);
    this.o.ips.release(uid);
    this.used = addAmounts(this.used, had.requests, -1);
    return had;
  }

  /** A pod that already runs here by the API's account (this process restarted): keep its IP and start time. */
  private adopt(pod: Pod): RunningPod | undefined {
    const uid = pod.metadata?.uid ?? '';
    const s = pod.status;
    if (s?.phase !== 'Running' || !s.podIP) return undefined;
    if (pod.spec?.hostNetwork ? s.podIP !== this.o.hostIP : !this.o.ips.reserve(s.podIP, uid)) return undefined;
    const started = s.startTime ? Date.parse(s.startTime) : NaN;
    const rec = { startedMs: Number.isNaN(started) ? this.o.clock.nowMs() : started, ip: s.podIP, requests: podRequests(pod) };
    this.pods.set(uid, rec);
    this.used = addAmounts(this.used, rec.requests);
    return rec;
  }

  private showsRunning(pod: Pod, ip: string): boolean {
    const s = pod.status;
    if (s?.phase !== 'Running' || s.podIP !== ip || s.hostIP !== this.o.hostIP) return false;
    if (s.conditions.find((c) => c.type === 'Ready')?.status !== 'True') return false;
    const containers = pod.spec?.containers ?? [];
    return s.containerStatuses.length === containers.length && s.containerStatuses.every((c) => c.ready && c.state?.running);
  }

  private statusOf(pod: Pod, rec: RunningPod): PodStatus {
    const started = rfc3339(rec.startedMs);
    const uid = pod.metadata?.uid ?? '';
    const ip = rec.ip;
    const running = ip !== undefined;
    return {
      phase: running ? 'Running' : 'Pending',
      conditions: [
        cond('PodScheduled', true, started),
        cond('Initialized', true, started),
        cond('ContainersReady', running, started, running ? undefined : 'ContainersNotReady'),
        cond('Ready', running, started, running ? undefined : 'ContainersNotReady'),
      ],
      hostIP: this.o.hostIP,
      hostIPs: [{ ip: this.o.hostIP }],
      podIP: ip,
      podIPs: ip === undefined ? [] : [{ ip }],
      startTime: started,
      initContainerStatuses: (pod.spec?.initContainers ?? []).map((c) => ({
        ...baseStatus(c, uid, true),
        ready: true,
        started: false,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started, containerID: containerId(uid, c) } },
      })),
      containerStatuses: (pod.spec?.containers ?? []).map((c) =>
        running
          ? { ...baseStatus(c, uid, true), ready: true, started: true, state: { running: { startedAt: started } } }
          : { ...baseStatus(c, uid, false), ready: false, started: false, state: { waiting: { reason: 'ContainerCreating', message: `no IP addresses available in range ${this.o.ips.cidr} of node ${this.o.nodeName}` } } },
      ),
    };
  }
}

// Module functions, not closures in statusOf: a status is built for every pod, and with tsx each
// named closure made also pays esbuild's __name.
function cond(type: string, ok: boolean, at: string, reason?: string) {
  return { type, status: ok ? 'True' : 'False', lastTransitionTime: at, reason };
}

function containerId(uid: string, c: Container): string {
  return `hollow://${uid}/${c.name ?? ''}`;
}

/** A container's status fields that do not depend on its state; it has an ID once started. */
function baseStatus(c: Container, uid: string, started: boolean): ContainerStatus {
  return { name: c.name, image: c.image, imageID: c.image, restartCount: 0, containerID: started ? containerId(uid, c) : undefined };
}
