// What Kubernetes' pod strategy fills in a new pod's status on create: its QoS class, from the
// containers' requests and limits (see pod_qos.ts). A class the client sent is kept, as Kubernetes'
// GetPodQOS returns a class already in the status.

import { PodStatus } from '../../gen/navarch/api/v1/core.js';
import { podQosClass } from '../api/pod_qos.js';
import type { KindInfo, KubeObject, Pod } from '../api/registry.js';

export function preparePodForCreate(info: KindInfo, o: KubeObject): void {
  if (info.kind !== 'Pod') return;
  const pod = o as Pod;
  pod.status ??= PodStatus.fromPartial({});
  pod.status.qosClass ||= podQosClass(pod.spec);
}
