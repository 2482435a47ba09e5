// The agent's pod workers: one level-triggered worker per pod, running it through a ContainerRuntime
// and a PodNetwork and reporting its status (see pod_workers.ts).

import type { ProbeManager } from '../probes/probe_manager.js';
import type { VolumeManager } from '../volumes/volume_manager.js';
import type { ContainerObserver, PodVolumes, ReadinessSource } from './ports.js';

export { PodWorkers, type PodWorkersOptions, type PodWorkersStats } from './pod_workers.js';
export { apiEnv, type ContainerObserver, type EnvResolver, type EnvFacts, type LogDirs, type PodVolumes, type ReadinessSource } from './ports.js';
export { FsLogDirs, containerLogPath, podLogDir } from './log_dirs.js';
export { podStatus, podPhase, CONTAINER_ID_PREFIX, type ContainerView, type PodView } from './pod_status.js';
export { containerId, podUidOfContainerId, buildContainerConfig, LABEL_POD_UID, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_CONTAINER_NAME, LABEL_ATTEMPT, LABEL_CONTAINER_KIND } from './container_config.js';
export { containerArgv } from './argv.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { pullCredentials, parseDockerConfig } from './pull_secrets.js';

export { runtimeExec } from './exec_fn.js';

// The real parts fit what the workers call (checked by the compiler):
//   const probes = new ProbeManager({ clock, onRestart: (uid, name, reason, o) => void workers.restartContainer(uid, name, reason, { gracePeriodSeconds: o.terminationGracePeriodSeconds }), onChange: (uid) => workers.requestSync(uid) });
//   const workers = new PodWorkers({ ..., volumes: new VolumeManager(...), readiness: probes, observer: probes });
export const volumeManagerFits = (v: VolumeManager): PodVolumes => v;
export const probeManagerFits = (p: ProbeManager): ReadinessSource & ContainerObserver => p;
