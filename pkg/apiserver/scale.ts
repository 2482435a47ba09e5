// The scale subresource of Deployments, ReplicaSets and StatefulSets, as Kubernetes serves it: an
// autoscaling/v1 Scale whose spec.replicas is the object's and whose status carries the observed
// replicas and the label selector as text (what `kubectl scale` and autoscalers read and write).
// A Scale is never stored: reads build it from the object, writes set the object's spec.replicas.

import { labelSelectorToString } from '../api/labels.js';
import { SCALE, type KindInfo, type KubeObject, type Scale } from '../api/registry.js';
import { fieldErrors } from '../api/field_errors.js';
import { badRequest, invalid } from './api_error.js';
import { clone, emptyMeta } from './objects.js';

type Scalable = KubeObject & {
  spec?: { replicas?: number; selector?: Parameters<typeof labelSelectorToString>[0] };
  status?: { replicas?: number };
};

/** The Scale of a stored object (it carries the object's name, uid and resourceVersion). */
export function scaleOf(o: KubeObject): Scale {
  const x = o as Scalable;
  const m = o.metadata;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { ...emptyMeta(), name: m?.name, namespace: m?.namespace, uid: m?.uid, resourceVersion: m?.resourceVersion, creationTimestamp: m?.creationTimestamp },
    spec: { replicas: x.spec?.replicas ?? 0 },
    status: { replicas: x.status?.replicas ?? 0, selector: labelSelectorToString(x.spec?.selector) },
  } as Scale;
}

/** The object to store for a scale write: the stored one with the Scale's spec.replicas. */
export function withScale(info: KindInfo, old: KubeObject, incoming: KubeObject): KubeObject {
  if (incoming.kind !== 'Scale' || incoming.apiVersion !== 'autoscaling/v1') {
    throw badRequest(`Cannot write ${info.resource}/scale: the body is a ${incoming.kind} of ${JSON.stringify(incoming.apiVersion)}, not a Scale of "autoscaling/v1"`);
  }
  const replicas = (incoming as Scale).spec?.replicas ?? 0;
  const name = old.metadata?.name ?? '';
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw invalid(SCALE, name, [fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
  }
  const next = clone(old) as Scalable;
  next.spec = { ...next.spec, replicas };
  return next;
}
