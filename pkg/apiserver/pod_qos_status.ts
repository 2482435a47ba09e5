// A pod's status as Kubernetes' pod strategies set it on create: a client cannot create a pod with
// a status (it would show Running before any node ran it), so a new pod starts Pending, with its
// qosClass from the containers' requests and limits (see pod_qos.ts) unless the client sent one
// (Kubernetes' GetPodQOS returns a class already in the status). A later write that leaves the
// class out keeps it, as the status strategy backfills it.

import { PodStatus } from '../../gen/navarch/api/v1/core.js';
import { podQosClass } from '../api/pod_qos.js';
import type { KindInfo, KubeObject, Pod } from '../api/registry.js';

export function preparePodForCreate(info: KindInfo, o: KubeObject): void {
  if (info.kind !== 'Pod') return;
  const pod = o as Pod;
  pod.status = PodStatus.fromPartial({ phase: 'Pending', qosClass: pod.status?.qosClass || podQosClass(pod.spec) });
}

export function keepPodQosClass(next: Pod, old: Pod): void {
  const oldClass = old.status?.qosClass;
  if (next.status && !next.status.qosClass && oldClass) next.status.qosClass = oldClass;
}
