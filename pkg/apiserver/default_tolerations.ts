// Kubernetes' DefaultTolerationSeconds admission: a new pod that does not already tolerate the
// not-ready or the unreachable NoExecute taint (a toleration with that key or no key, and effect
// NoExecute or none; value and operator do not matter here) gets one for it, with
// tolerationSeconds from the server's setting. So `describe pod` shows how long a pod survives on a
// lost node, and the node lifecycle controller reads it from the pod (see nodelifecycle/taints.ts).

import { Toleration } from '../../gen/navarch/api/v1/core.js';
import type { KindInfo, KubeObject, Pod } from '../api/registry.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';

/** Kubernetes' flags default to 300 s; ours, like the node lifecycle controller's, to 20. */
export const DEFAULT_TOLERATION_SECONDS = 20;

/** Whether the tolerations cover the taint key as the admission plugin judges it (key and effect only). */
export function tolerationsCoverKey(tolerations: readonly Toleration[] | undefined, key: string): boolean {
  return (tolerations ?? []).some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
}

export function addDefaultTolerations(info: KindInfo, o: KubeObject, seconds: number): void {
  if (info.kind !== 'Pod') return;
  const spec = (o as Pod).spec;
  if (spec === undefined) return;
  const have = spec.tolerations ?? [];
  const add = [TAINT_NOT_READY, TAINT_UNREACHABLE].filter((key) => !tolerationsCoverKey(have, key));
  if (add.length > 0) spec.tolerations = [...have, ...add.map((key) => Toleration.fromPartial({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }))];
}
