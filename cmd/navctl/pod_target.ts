// What `logs` and `exec` share: the pod argument ("web" or "pod/web") and, without -c, kubectl's
// default container (the kubectl.kubernetes.io/default-container annotation, else the first one),
// announced on stderr when the pod has several.

import type { Pod } from '../../pkg/api/registry.js';
import { err, type Session } from './session.js';

export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** "web", "pod/web", "pods/web", "po/web" → "web". */
export function parsePodArg(arg: string): string {
  const slash = arg.indexOf('/');
  if (slash < 0) return arg;
  const kind = arg.slice(0, slash);
  if (!['pod', 'pods', 'po'].includes(kind)) throw new Error(`Cannot use "${arg}": only pods have logs and exec here (expected POD or pod/POD)`);
  const name = arg.slice(slash + 1);
  if (!name) throw new Error(`Cannot use "${arg}": the pod name is missing`);
  return name;
}

/** The container to use: -c if given, else the pod's default one (named on stderr when there was a choice). */
export function defaultContainer(pod: Pod, container: string | undefined, note: (text: string) => void = err): string {
  if (container) return container;
  const names = (pod.spec?.containers ?? []).map((c) => c.name ?? '');
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  const picked = annotated && names.includes(annotated) ? annotated : names[0];
  if (picked === undefined) return '';
  if (names.length > 1) note(`Defaulted container "${picked}" out of: ${names.join(', ')}\n`);
  return picked;
}

export async function resolveContainer(s: Session, name: string, container: string | undefined): Promise<string> {
  if (container) return container;
  const pod = await s.client.get<Pod>('pods', s.namespace, name);
  return defaultContainer(pod, undefined);
}
