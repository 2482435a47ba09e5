// A container's state as the agent sees it, from its containerd record and its task.

import { Status, type Process } from '../../../../gen/containerd/github.com/containerd/containerd/api/types/task/task.js';
import type { Container } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/containers/v1/containers.js';
import type { ContainerPhase, ContainerState } from '../runtime.js';
import { LABEL, visibleLabels } from './labels.js';

/** CRI's exit code for a container whose task vanished (a reboot, a lost shim). */
const UNKNOWN_EXIT_CODE = 255;

function phaseOf(p: Process): ContainerPhase {
  switch (p.status) {
    case Status.CREATED:
      return 'created';
    case Status.RUNNING:
    case Status.PAUSED:
    case Status.PAUSING:
      return 'running';
    case Status.STOPPED:
      return 'exited';
    default:
      return 'unknown';
  }
}

export function toState(c: Container, task: Process | undefined): ContainerState {
  const l = c.labels;
  const startedAt = l[LABEL.startedAt] ? Number(l[LABEL.startedAt]) : undefined;
  const state: ContainerState = {
    id: c.id,
    podUid: l[LABEL.podUid] ?? '',
    containerName: l[LABEL.containerName] ?? '',
    attempt: Number(l[LABEL.attempt] ?? 0),
    image: c.image,
    imageDigest: l[LABEL.imageDigest] ?? '',
    phase: 'unknown',
    labels: visibleLabels(l),
    createdAtMs: c.createdAt?.getTime() ?? 0,
    logPath: l[LABEL.logPath] ?? '',
  };
  if (startedAt !== undefined) state.startedAtMs = startedAt;
  if (!task) {
    // No task: it ran and its process is gone without a trace (a reboot), or creation failed midway.
    if (startedAt !== undefined) Object.assign(state, { phase: 'exited', exitCode: UNKNOWN_EXIT_CODE, reason: 'Unknown' });
    return state;
  }
  state.phase = phaseOf(task);
  if (task.pid) state.pid = task.pid;
  if (state.phase === 'exited') {
    state.exitCode = task.exitStatus;
    if (task.exitedAt && task.exitedAt.getTime() > 0) state.finishedAtMs = task.exitedAt.getTime();
    state.reason = l[LABEL.oomKilled] ? 'OOMKilled' : task.exitStatus === 0 ? 'Completed' : 'Error';
  }
  return state;
}
