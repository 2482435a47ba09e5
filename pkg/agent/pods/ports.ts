// What the pod workers call that other parts of the agent provide: volumes, env, probe results, log
// directories. Small interfaces, so the workers' tests use simple fakes and the real parts
// (pkg/agent/volumes, pkg/agent/env.ts, pkg/agent/probes) plug in without the workers knowing them.

import type { Container, Pod } from '../../../gen/navarch/api/v1/core.js';
import type { DownwardContext } from '../downward.js';
import { resolveEnv } from '../env.js';
import { objectGetters, type ObjectGetter } from '../object_getters.js';
import type { Mount } from '../runtime/runtime.js';

/** The pod's volumes on the host. setUp is called on every sync (it refreshes configMap/secret files). */
export interface PodVolumes {
  /** Makes every volume of the pod; returns volume name -> host path. */
  setUp(pod: Pod): Promise<Map<string, string>>;
  /** The mounts of one container (its volumeMounts resolved against `paths`; env for subPathExpr); throws naming the field path. */
  mountsFor(pod: Pod, container: Container, paths: ReadonlyMap<string, string>, o: { env: { name: string; value: string }[] }): Promise<Mount[]>;
  tearDown(podUid: string): Promise<void>;
}

/** What env resolution may read besides the pod object: facts only the agent knows. */
export interface EnvFacts {
  podIP: string | undefined;
  hostIP: string;
  nodeName: string;
}

/** A container's environment, in order, with valueFrom resolved; throws an error naming the field path. */
export type EnvResolver = (pod: Pod, container: Container, facts: EnvFacts) => Promise<{ name: string; value: string }[]>;

/** Readiness as the prober last saw it; undefined when it has no result (yet) for that container. */
export interface ReadinessSource {
  isReady(podUid: string, containerName: string): boolean | undefined;
  /** Whether the startup probe has passed; undefined: no startup probe result (started once running). */
  isStarted?(podUid: string, containerName: string): boolean | undefined;
}

/** What a prober needs to know of each container run (../probes/probe_manager.ts fits). */
export interface ContainerObserver {
  /** Called on every sync while the container runs; a new containerId is a new run. */
  containerStarted(pod: Pod, containerName: string, start: { containerId: string; startedAtMs: number; podIP: string; exec: (argv: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }> }): void;
  containerStopped(podUid: string, containerName: string): void;
  removePod(podUid: string): void;
}

/** The per-pod log directories: <podsDir>/<namespace>_<name>_<uid>/<container>/<attempt>.log. */
export interface LogDirs {
  /** The directory of a container's logs (<attempt>.log files). */
  containerDir(namespace: string, name: string, uid: string, containerName: string): string;
  /** Makes the container's directory and returns the log file path for this attempt. */
  prepare(pod: Pod, containerName: string, attempt: number): Promise<string>;
  /** Removes the pod's directory (the pod is gone for good). */
  removePod(namespace: string, name: string, uid: string): Promise<void>;
  /** Removes every pod directory whose uid is not in `keepUids` (orphans after a restart). */
  removeOrphans(keepUids: ReadonlySet<string>): Promise<void>;
}

/** Env through ../env.ts's resolveEnv, reading ConfigMaps and Secrets with `client`. */
export function apiEnv(client: ObjectGetter, nodeAllocatable?: DownwardContext['nodeAllocatable']): EnvResolver {
  const getters = objectGetters(client);
  return (pod, container, facts) => resolveEnv(pod, container, { ...getters, ...facts, podIP: facts.podIP, nodeAllocatable });
}
