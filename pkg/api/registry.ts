// Every kind Navarch serves: group/version/kind, REST resource names, scope, short names, and the
// generated protobuf codec. The API server routes, navctl resolves `get deploy`, and the converter
// picks the message type, all from this one table.

import { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "../../gen/navarch/api/v1/apps.js";
import { HorizontalPodAutoscaler, Scale } from "../../gen/navarch/api/v1/autoscaling.js";
import { CronJob, Job } from "../../gen/navarch/api/v1/batch.js";
import { Lease } from "../../gen/navarch/api/v1/coordination.js";
import {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
} from "../../gen/navarch/api/v1/core.js";
import type { MessageFns, ObjectMeta } from "../../gen/navarch/api/v1/meta.js";
import { Ingress } from "../../gen/navarch/api/v1/networking.js";
import { Eviction, PodDisruptionBudget } from "../../gen/navarch/api/v1/policy.js";
import { PriorityClass } from "../../gen/navarch/api/v1/scheduling.js";

export type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "../../gen/navarch/api/v1/apps.js";
export type { HorizontalPodAutoscaler, Scale } from "../../gen/navarch/api/v1/autoscaling.js";
export type { CronJob, Job } from "../../gen/navarch/api/v1/batch.js";
export type { Lease } from "../../gen/navarch/api/v1/coordination.js";
export type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
} from "../../gen/navarch/api/v1/core.js";
export type { Ingress } from "../../gen/navarch/api/v1/networking.js";
export type { Eviction, PodDisruptionBudget } from "../../gen/navarch/api/v1/policy.js";
export type { PriorityClass } from "../../gen/navarch/api/v1/scheduling.js";

/** Kind name → TypeScript type, for generic helpers. */
export interface KindMap {
  Namespace: Namespace;
  Node: Node;
  Pod: Pod;
  Service: Service;
  Endpoints: Endpoints;
  ConfigMap: ConfigMap;
  Secret: Secret;
  Event: Event;
  PersistentVolume: PersistentVolume;
  PersistentVolumeClaim: PersistentVolumeClaim;
  Deployment: Deployment;
  ReplicaSet: ReplicaSet;
  DaemonSet: DaemonSet;
  StatefulSet: StatefulSet;
  Job: Job;
  CronJob: CronJob;
  HorizontalPodAutoscaler: HorizontalPodAutoscaler;
  Lease: Lease;
  Ingress: Ingress;
  PriorityClass: PriorityClass;
  PodDisruptionBudget: PodDisruptionBudget;
  /** Not stored: the body of POST pods/{name}/eviction. */
  Eviction: Eviction;
  /** Not stored: the body of the scale subresource of Deployments, ReplicaSets and StatefulSets. */
  Scale: Scale;
}

export type KindName = keyof KindMap;
export type KubeObject = KindMap[KindName];

/** What every object has; enough for generic code (stores, caches, garbage collection). */
export interface ObjectLike {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: ObjectMeta | undefined;
}

export interface KindInfo<K extends KindName = KindName> {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: K;
  /** "v1" or "apps/v1". */
  apiVersion: string;
  /** Plural REST resource: "pods", "deployments". */
  resource: string;
  /** Lower-case singular: "pod". */
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  /** kubectl discovery categories; "all" makes `get all` include the kind. */
  categories: readonly string[];
  listKind: string;
  /** The status subresource exists: spec writers and status writers are kept apart. */
  hasStatus: boolean;
  /** The scale subresource exists (autoscaling/v1 Scale over spec.replicas). */
  hasScale: boolean;
  /** metadata.generation is 1 on create and bumped on spec changes (the workload kinds' strategies); other kinds have none. */
  hasGeneration: boolean;
  /** The navarch.api.v1 message name (same as kind). */
  messageName: string;
  codec: MessageFns<KindMap[K]>;
}

function info<K extends KindName>(
  kind: K,
  group: string,
  version: string,
  resource: string,
  namespaced: boolean,
  codec: MessageFns<KindMap[K]>,
  opts: { shortNames?: string[]; all?: boolean; status?: boolean; scale?: boolean; generation?: boolean } = {},
): KindInfo<K> {
  return {
    group,
    version,
    kind,
    apiVersion: group ? `${group}/${version}` : version,
    resource,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: opts.shortNames ?? [],
    categories: opts.all ? ["all"] : [],
    listKind: `${kind}List`,
    hasStatus: opts.status ?? true,
    hasScale: opts.scale ?? false,
    hasGeneration: opts.generation ?? false,
    messageName: kind,
    codec,
  };
}

export const KINDS: readonly KindInfo[] = [
  info("Namespace", "", "v1", "namespaces", false, Namespace, { shortNames: ["ns"] }),
  info("Node", "", "v1", "nodes", false, Node, { shortNames: ["no"] }),
  info("Pod", "", "v1", "pods", true, Pod, { shortNames: ["po"], all: true }),
  info("Service", "", "v1", "services", true, Service, { shortNames: ["svc"], all: true }),
  info("Endpoints", "", "v1", "endpoints", true, Endpoints, { shortNames: ["ep"], status: false }),
  info("ConfigMap", "", "v1", "configmaps", true, ConfigMap, { shortNames: ["cm"], status: false }),
  info("Secret", "", "v1", "secrets", true, Secret, { status: false }),
  info("Event", "", "v1", "events", true, Event, { shortNames: ["ev"], status: false }),
  info("PersistentVolume", "", "v1", "persistentvolumes", false, PersistentVolume, { shortNames: ["pv"] }),
  info("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", true, PersistentVolumeClaim, {
    shortNames: ["pvc"],
  }),
  info("Deployment", "apps", "v1", "deployments", true, Deployment, { shortNames: ["deploy"], all: true, scale: true, generation: true }),
  info("ReplicaSet", "apps", "v1", "replicasets", true, ReplicaSet, { shortNames: ["rs"], all: true, scale: true, generation: true }),
  info("DaemonSet", "apps", "v1", "daemonsets", true, DaemonSet, { shortNames: ["ds"], all: true, generation: true }),
  info("StatefulSet", "apps", "v1", "statefulsets", true, StatefulSet, { shortNames: ["sts"], all: true, scale: true, generation: true }),
  info("Job", "batch", "v1", "jobs", true, Job, { all: true, generation: true }),
  info("CronJob", "batch", "v1", "cronjobs", true, CronJob, { shortNames: ["cj"], all: true, generation: true }),
  info("HorizontalPodAutoscaler", "autoscaling", "v2", "horizontalpodautoscalers", true, HorizontalPodAutoscaler, {
    shortNames: ["hpa"],
    all: true,
  }),
  info("Lease", "coordination.k8s.io", "v1", "leases", true, Lease, { status: false }),
  info("Ingress", "networking.k8s.io", "v1", "ingresses", true, Ingress, { shortNames: ["ing"], generation: true }),
  info("PriorityClass", "scheduling.k8s.io", "v1", "priorityclasses", false, PriorityClass, {
    shortNames: ["pc"],
    status: false,
  }),
  info("PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets", true, PodDisruptionBudget, { shortNames: ["pdb"], generation: true }),
];

/**
 * autoscaling/v1 Scale: read and written through a scale subresource only, never stored or listed,
 * so it is not in KINDS; decoding and encoding find it here.
 */
export const SCALE: KindInfo<"Scale"> = info("Scale", "autoscaling", "v1", "scale", true, Scale, { status: false });

/** policy/v1 Eviction: the body of a create of pods/{name}/eviction, never stored or listed. */
export const EVICTION: KindInfo<"Eviction"> = info("Eviction", "policy", "v1", "eviction", true, Eviction, { status: false });

/** Whether objects of this kind are stored and served as a resource (Scale and Eviction are not). */
export function isStoredKind(k: KindInfo): boolean {
  return k !== SCALE && k !== EVICTION;
}

/** By apiVersion, then kind: every object decoded or written looks its kind up, and a key made of both was a string built each time. */
const BY_GVK = new Map<string, Map<string, KindInfo>>();
for (const k of [...KINDS, SCALE, EVICTION]) {
  let byKind = BY_GVK.get(k.apiVersion);
  if (byKind === undefined) BY_GVK.set(k.apiVersion, (byKind = new Map()));
  byKind.set(k.kind, k);
}
const BY_KIND = new Map(KINDS.map((k) => [k.kind as string, k]));
const BY_GROUP_RESOURCE = new Map(KINDS.map((k) => [`${k.group}/${k.resource}`, k]));

/** The kind for an apiVersion and kind as written in a manifest, or undefined if not served. */
export function kindFor(apiVersion: string, kind: string): KindInfo | undefined {
  return BY_GVK.get(apiVersion)?.get(kind);
}

/** The kind by its name alone ("Deployment"); every kind name is unique across groups here. */
export function kindByName<K extends KindName>(kind: K): KindInfo<K>;
export function kindByName(kind: string): KindInfo | undefined;
export function kindByName(kind: string): KindInfo | undefined {
  return BY_KIND.get(kind);
}

/** The kind served at /apis/{group}/{version}/{resource} ("" group for /api/v1). */
export function kindForResource(group: string, version: string, resource: string): KindInfo | undefined {
  const k = BY_GROUP_RESOURCE.get(`${group}/${resource}`);
  return k && k.version === version ? k : undefined;
}

/**
 * Resolves what a user types after `navctl get`: plural, singular, short name or kind, optionally
 * qualified by group ("deployments.apps", "deploy", "Deployment", "hpa"). Case-insensitive.
 */
export function resolveResource(text: string): KindInfo | undefined {
  const lower = text.toLowerCase();
  const dot = lower.indexOf(".");
  const name = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return KINDS.find(
    (k) =>
      (group === undefined || k.group === group) &&
      (k.resource === name || k.singular === name || k.shortNames.includes(name)),
  );
}

/** All apiVersions served, in a stable order: "v1" first, then groups alphabetically. */
export function servedApiVersions(): string[] {
  const set = new Set(KINDS.map((k) => k.apiVersion));
  return [...set].sort((a, b) => (a === "v1" ? -1 : b === "v1" ? 1 : a.localeCompare(b)));
}
