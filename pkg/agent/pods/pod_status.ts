// A pod's status from what its worker sees, as the kubelet computes it (generateAPIPodStatus and
// getPhase): containerStatuses from the newest and previous run of each container, the phase from
// their states and the restartPolicy, and the conditions PodScheduled, Initialized,
// ContainersReady and Ready. A pure function: the worker passes everything in.

import type { Container, ContainerState as ApiContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '../../../gen/navarch/api/v1/core.js';
import { rfc3339 } from '../timestamps.js';
import type { ContainerState } from '../runtime/runtime.js';

export interface ContainerView {
  /** The newest run of this container. */
  latest?: ContainerState;
  /** The run before it (lastState). */
  previous?: ContainerState;
  /** Why it is not running, when the worker knows (ErrImagePull, CrashLoopBackOff, ...). */
  waiting?: { reason: string; message?: string };
  /** imageID to show ("<repo>@sha256:..."). */
  imageID?: string;
  /** The prober's verdicts; undefined: no result. */
  ready?: boolean;
  started?: boolean;
}

export interface PodView {
  pod: Pod;
  /** In spec order, one per init container and one per container. */
  init: ContainerView[];
  app: ContainerView[];
  hostIP: string;
  podIP?: string;
  startTimeMs: number;
  nowMs: number;
  /** Why no container could be made yet (network or volumes), shown as ContainerCreating's message. */
  podWaitingMessage?: string;
  /** A phase the pod reached earlier and keeps (Succeeded and Failed are final). */
  terminalPhase?: 'Succeeded' | 'Failed';
  /** The pod-level reason and message of a pod the agent ended itself. */
  terminalReason?: { reason: string; message: string };
}

export const CONTAINER_ID_PREFIX = 'containerd://';

export function podStatus(v: PodView): PodStatus {
  const spec = v.pod.spec;
  const inits = spec?.initContainers ?? [];
  const apps = spec?.containers ?? [];
  const initDone = inits.every((c, i) => (c.restartPolicy === 'Always' ? hasRun(v.init[i]?.latest) : succeeded(v.init[i]?.latest)));
  const initContainerStatuses = inits.map((c, i) => containerStatus(c, v.init[i] ?? {}, c.restartPolicy !== 'Always', 'PodInitializing', v));
  const containerStatuses = apps.map((c, i) => containerStatus(c, v.app[i] ?? {}, false, initDone ? 'ContainerCreating' : 'PodInitializing', v));
  const sidecars = new Set(inits.filter((c) => c.restartPolicy === 'Always').map((c) => c.name ?? ''));
  const phase = v.terminalPhase ?? podPhase(spec?.restartPolicy ?? 'Always', initContainerStatuses, containerStatuses, sidecars);
  const now = rfc3339(v.nowMs);
  const cond = (type: string, ok: boolean, reason?: string, message?: string): PodCondition => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now, ...(ok ? {} : { reason, message }) });

  const incomplete = initContainerStatuses.filter((s, i) => !(sidecars.has(s.name ?? '') ? hasRun(v.init[i]?.latest) : s.state?.terminated?.exitCode === 0)).map((s) => s.name ?? '');
  const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name ?? '');
  const containersReady =
    phase === 'Succeeded' ? cond('ContainersReady', false, 'PodCompleted') : cond('ContainersReady', unready.length === 0, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`);
  let ready: PodCondition = { ...containersReady, type: 'Ready' };
  if (containersReady.status === 'True') {
    const gates = (spec?.readinessGates ?? []).map((g) => g.conditionType ?? '').filter((t) => v.pod.status?.conditions.find((c) => c.type === t)?.status !== 'True');
    if (gates.length > 0) ready = cond('Ready', false, 'ReadinessGatesNotReady', `corresponding condition of pod readiness gate "${gates[0]}" does not exist.`);
  }
  const podIP = v.podIP;
  return {
    phase,
    ...v.terminalReason,
    conditions: [
      cond('PodScheduled', true),
      cond('Initialized', incomplete.length === 0, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`),
      containersReady,
      ready,
    ],
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    podIP,
    podIPs: podIP === undefined ? [] : [{ ip: podIP }],
    startTime: rfc3339(v.startTimeMs),
    initContainerStatuses,
    containerStatuses,
  };
}

function hasRun(s: ContainerState | undefined): boolean {
  return s !== undefined && s.phase !== 'created';
}

function succeeded(s: ContainerState | undefined): boolean {
  return s?.phase === 'exited' && s.exitCode === 0;
}

function terminated(s: ContainerState): ApiContainerState {
  const exitCode = s.exitCode ?? 0;
  return {
    terminated: {
      exitCode,
      reason: s.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
      startedAt: s.startedAtMs === undefined ? undefined : rfc3339(s.startedAtMs),
      finishedAt: s.finishedAtMs === undefined ? undefined : rfc3339(s.finishedAtMs),
      containerID: CONTAINER_ID_PREFIX + s.id,
    },
  };
}

function containerStatus(c: Container, v: ContainerView, init: boolean, defaultWaiting: string, pv: PodView): ContainerStatus {
  const latest = v.latest;
  let state: ApiContainerState;
  let lastState: ApiContainerState = {};
  const prevTerminated = v.previous?.phase === 'exited' ? terminated(v.previous) : {};
  if (latest?.phase === 'running') {
    state = { running: { startedAt: latest.startedAtMs === undefined ? undefined : rfc3339(latest.startedAtMs) } };
    lastState = prevTerminated;
  } else if (v.waiting !== undefined) {
    state = { waiting: { reason: v.waiting.reason, message: v.waiting.message } };
    lastState = latest?.phase === 'exited' ? terminated(latest) : prevTerminated;
  } else if (latest?.phase === 'exited') {
    state = terminated(latest);
    lastState = prevTerminated;
  } else {
    const reason = latest?.phase === 'created' ? 'ContainerCreating' : defaultWaiting;
    state = { waiting: { reason, message: reason === 'ContainerCreating' ? pv.podWaitingMessage : undefined } };
    lastState = prevTerminated;
  }
  const running = state.running !== undefined;
  const probeReady = v.ready ?? (c.readinessProbe === undefined);
  return {
    name: c.name,
    state,
    lastState,
    ready: init ? state.terminated?.exitCode === 0 : running && probeReady,
    restartCount: latest?.attempt ?? 0,
    image: c.image,
    imageID: v.imageID ?? '',
    containerID: latest === undefined ? undefined : CONTAINER_ID_PREFIX + latest.id,
    started: running && (v.started ?? true),
  };
}

/** getPhase of the kubelet; `sidecars` names the init containers with restartPolicy Always. */
export function podPhase(restartPolicy: string, inits: readonly ContainerStatus[], apps: readonly ContainerStatus[], sidecars: ReadonlySet<string> = new Set()): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  let pendingInit = false;
  let failedInit = false;
  for (const s of inits) {
    if (sidecars.has(s.name ?? '')) {
      // A sidecar that has started once does not hold initialization up, whatever it does since.
      if (!(s.state?.running || s.state?.terminated || s.lastState?.terminated)) pendingInit = true;
      continue;
    }
    const t = s.state?.terminated;
    if (t?.exitCode === 0) continue;
    pendingInit = true;
    if ((t !== undefined && t.exitCode !== 0) || (s.state?.waiting !== undefined && (s.lastState?.terminated?.exitCode ?? 0) !== 0)) failedInit = true;
  }
  if (failedInit && restartPolicy === 'Never') return 'Failed';
  if (pendingInit) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeededCount = 0;
  for (const s of apps) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeededCount++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeededCount) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}
