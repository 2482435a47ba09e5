// The runtime config of one run of one container: its id and labels (which let a restarted agent
// find its containers again), argv, env, mounts, limits and log path.

import type { Container, Pod } from '../../../gen/navarch/api/v1/core.js';
import { Quantity } from '../../api/quantity.js';
import type { ContainerConfig, ImageInfo, Mount } from '../runtime/runtime.js';
import { containerArgv } from './argv.js';

export const LABEL_POD_UID = 'navarch.io/pod-uid';
export const LABEL_POD_NAME = 'navarch.io/pod-name';
export const LABEL_POD_NAMESPACE = 'navarch.io/pod-namespace';
export const LABEL_CONTAINER_NAME = 'navarch.io/container-name';
export const LABEL_ATTEMPT = 'navarch.io/attempt';
/** The image as the pod spec names it: a change of the spec's image restarts the container. */
export const LABEL_SPEC_IMAGE = 'navarch.io/spec-image';
/** "init" for init containers, "app" for the others. */
export const LABEL_CONTAINER_KIND = 'navarch.io/container-kind';

/** Derived, so the same run of the same container can never be created twice. */
export function containerId(podUid: string, containerName: string, attempt: number): string {
  return `${podUid}_${containerName}_${attempt}`;
}

/** The pod uid inside an id made by containerId (uids and container names have no "_"). */
export function podUidOfContainerId(id: string): string {
  return id.slice(0, Math.max(0, id.indexOf('_')));
}

export interface ContainerConfigInput {
  pod: Pod;
  container: Container;
  init: boolean;
  attempt: number;
  image: ImageInfo;
  env: { name: string; value: string }[];
  mounts: Mount[];
  netnsPath: string;
  logPath: string;
}

export function buildContainerConfig(i: ContainerConfigInput): ContainerConfig {
  const { pod, container: c } = i;
  const meta = pod.metadata;
  const uid = meta?.uid ?? '';
  const name = c.name ?? '';
  const envMap = new Map(i.env.map((e) => [e.name, e.value]));
  const argv = containerArgv(c.command, c.args, i.image.config, envMap);
  if (argv.length === 0) throw new Error(`container ${name}: no command specified: the pod gives no command and image ${c.image} has no entrypoint or cmd`);
  // The image's env first; the container's own entries replace those of the same name.
  const env = new Map<string, string>();
  for (const kv of i.image.config.env) {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const e of i.env) env.set(e.name, e.value);
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const sc = c.securityContext;
  const psc = pod.spec?.securityContext;
  return {
    id: containerId(uid, name, i.attempt),
    podUid: uid,
    podName: meta?.name ?? '',
    podNamespace: meta?.namespace ?? '',
    containerName: name,
    attempt: i.attempt,
    image: i.image.ref,
    argv,
    env: [...env].map(([k, v]) => ({ name: k, value: v })),
    workingDir: c.workingDir || i.image.config.workingDir || undefined,
    mounts: i.mounts,
    netnsPath: i.netnsPath,
    hostname: (pod.spec?.hostname || meta?.name || '').slice(0, 63),
    resources: {
      cpuLimitMillis: milli(limits.cpu),
      cpuRequestMillis: milli(requests.cpu ?? limits.cpu),
      memoryLimitBytes: bytes(limits.memory),
    },
    runAsUser: sc?.runAsUser ?? psc?.runAsUser,
    runAsGroup: sc?.runAsGroup ?? psc?.runAsGroup,
    logPath: i.logPath,
    labels: {
      [LABEL_POD_UID]: uid,
      [LABEL_POD_NAME]: meta?.name ?? '',
      [LABEL_POD_NAMESPACE]: meta?.namespace ?? '',
      [LABEL_CONTAINER_NAME]: name,
      [LABEL_ATTEMPT]: String(i.attempt),
      [LABEL_CONTAINER_KIND]: i.init ? 'init' : 'app',
      [LABEL_SPEC_IMAGE]: c.image ?? '',
    },
  };
}

function milli(q: string | undefined): number | undefined {
  return q === undefined ? undefined : Quantity.tryParse(q)?.milliValue();
}

function bytes(q: string | undefined): number | undefined {
  return q === undefined ? undefined : Quantity.tryParse(q)?.value();
}
