// The agent's pod workers: one level-triggered worker per pod, running it through a ContainerRuntime
// and a PodNetwork and reporting its status (see pod_workers.ts).

import type { VolumeManager } from '../volumes/volume_manager.js';
import type { PodVolumes } from './ports.js';

export { PodWorkers, type PodWorkersOptions, type PodWorkersStats } from './pod_workers.js';
export { apiEnv, type EnvResolver, type EnvFacts, type LogDirs, type PodVolumes, type ReadinessSource } from './ports.js';
export { FsLogDirs, containerLogPath, podLogDir } from './log_dirs.js';
export { podStatus, podPhase, CONTAINER_ID_PREFIX, type ContainerView, type PodView } from './pod_status.js';
export { containerId, podUidOfContainerId, buildContainerConfig, LABEL_POD_UID, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_CONTAINER_NAME, LABEL_ATTEMPT, LABEL_CONTAINER_KIND } from './container_config.js';
export { containerArgv } from './argv.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { pullCredentials, parseDockerConfig } from './pull_secrets.js';

/** The real volume manager is what the workers call. */
export const volumeManagerFits = (v: VolumeManager): PodVolumes => v;
