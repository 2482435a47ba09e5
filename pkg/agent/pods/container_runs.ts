// Helpers over a pod's container runs as the runtime lists them (one ContainerState per attempt).

import type { Container } from '../../../gen/navarch/api/v1/core.js';
import type { ContainerState, ImageInfo } from '../runtime/runtime.js';

/** An init container with restartPolicy Always. */
export const isSidecar = (c: Container): boolean => c.restartPolicy === 'Always';
export const succeeded = (s: ContainerState | undefined): boolean => s?.phase === 'exited' && s.exitCode === 0;
export const hasRun = (s: ContainerState | undefined): boolean => s !== undefined && s.phase !== 'created';

/** Each container name's runs, newest first. */
export function runsByName(states: readonly ContainerState[]): Map<string, ContainerState[]> {
  const out = new Map<string, ContainerState[]>();
  for (const s of states) {
    const list = out.get(s.containerName) ?? [];
    list.push(s);
    out.set(s.containerName, list);
  }
  for (const list of out.values()) list.sort((a, b) => b.attempt - a.attempt);
  return out;
}

/** "127.0.0.1:5000/navarch/busybox@sha256:...", as Kubernetes shows imageID. */
export function imageID(info: ImageInfo): string {
  return `${repository(info.ref)}@${info.digest}`;
}

export function imageIDOf(s: ContainerState): string | undefined {
  return s.imageDigest ? `${repository(s.image)}@${s.imageDigest}` : undefined;
}

export function repository(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** A delay as Go prints a time.Duration of whole seconds: "10s", "2m40s", "5m0s". */
export const goDuration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
};
