// The selector of a pod's siblings, for Kubernetes' system default topology spreading (a pod with
// no topologySpreadConstraints of its own is spread softly by hostname and zone among the pods
// that share its Services and its ReplicaSet or StatefulSet), as kube-scheduler's DefaultSelector:
// the selectors of the Services in its namespace that select it, merged, plus the selector of the
// ReplicaSet or StatefulSet that controls it. No such object: no default spreading.

import { type Requirement, Selector, selectorFromLabelSelector, selectorFromSet } from "../api/labels.js";
import type { KubeObject, ReplicaSet, Service, StatefulSet } from "../api/registry.js";
import type { PodInfo } from "./framework/pod_info.js";

export interface SiblingListers {
  /** The Services of a namespace. */
  services(namespace: string): readonly Service[];
  replicaSet(namespace: string, name: string): ReplicaSet | undefined;
  statefulSet(namespace: string, name: string): StatefulSet | undefined;
}

function controllerOf(o: KubeObject): { apiVersion?: string; kind?: string; name?: string } | undefined {
  return (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
}

/** The pod's sibling selector; undefined when nothing selects or controls it. */
export function defaultSpreadSelector(pod: PodInfo, listers: SiblingListers): Selector | undefined {
  const merged: Record<string, string> = {};
  for (const svc of listers.services(pod.namespace)) {
    const sel = svc.spec?.selector ?? {};
    // A Service without a selector selects nothing (its endpoints are managed by hand).
    if (Object.keys(sel).length === 0 || !selectorFromSet(sel).matches(pod.labels)) continue;
    Object.assign(merged, sel);
  }
  const requirements: Requirement[] = [...selectorFromSet(merged).requirements];
  const owner = controllerOf(pod.pod);
  if (owner?.apiVersion === "apps/v1" && owner.name) {
    const workload = owner.kind === "ReplicaSet" ? listers.replicaSet(pod.namespace, owner.name) : owner.kind === "StatefulSet" ? listers.statefulSet(pod.namespace, owner.name) : undefined;
    if (workload) {
      try {
        requirements.push(...selectorFromLabelSelector(workload.spec?.selector).requirements);
      } catch {
        // A selector with an unknown operator adds nothing, as Kubernetes skips one it cannot convert.
      }
    }
  }
  return requirements.length === 0 ? undefined : Selector.of(requirements);
}
