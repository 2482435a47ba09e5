// Which changes to the cluster may make a rejected pod schedulable, per plugin (kube-scheduler's
// EventsToRegister). The scheduling queue keeps an unschedulable pod parked until an event that
// one of the plugins that rejected it registered for, instead of retrying it in a loop.

import type { Node, Pod } from "../../api/registry.js";
import type { Framework } from "./framework.js";
import type { Plugin } from "./interface.js";
import { nodeAllocatable, podRequests, sameAllocatable, type Requests } from "./resources.js";

export type ClusterResource = "Pod" | "Node";

export type ActionType =
  | "Add"
  | "Delete"
  | "UpdateNodeAllocatable"
  | "UpdateNodeLabel"
  | "UpdateNodeTaint"
  | "UpdatePodLabel"
  | "UpdatePodScaleDown"
  | "UpdatePodTolerations";

export const NODE_UPDATES: readonly ActionType[] = ["UpdateNodeAllocatable", "UpdateNodeLabel", "UpdateNodeTaint"];

export interface ClusterEvent {
  resource: ClusterResource;
  actions: readonly ActionType[];
}

/** A plugin that rejects pods says which events may change its mind. */
export interface EnqueueExtensions extends Plugin {
  eventsToRegister(): readonly ClusterEvent[];
}

export function hasEnqueueExtensions(p: Plugin): p is EnqueueExtensions {
  return typeof (p as EnqueueExtensions).eventsToRegister === "function";
}

/**
 * Whether an event may help a pod that these plugins rejected. A rejection by a plugin that
 * registers no events (or by none: an error) is retried on any event.
 */
export function eventMayHelp(fwk: Framework, rejectedBy: ReadonlySet<string>, resource: ClusterResource, actions: readonly ActionType[]): boolean {
  if (rejectedBy.size === 0) return true;
  for (const name of rejectedBy) if (pluginMayHelp(fwk, name, resource, actions)) return true;
  return false;
}

/** Whether the event is one this plugin registered for (any event, for a plugin that registers none). */
export function pluginMayHelp(fwk: Framework, name: string, resource: ClusterResource, actions: readonly ActionType[]): boolean {
  const plugin = fwk.pluginByName(name);
  if (plugin === undefined || !hasEnqueueExtensions(plugin)) return true;
  for (const e of plugin.eventsToRegister()) {
    if (e.resource === resource && e.actions.some((a) => actions.includes(a))) return true;
  }
  return false;
}

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a![k] === b?.[k]);
}

/** What changed between two versions of a node, as action types. */
export function nodeUpdateActions(before: Node, after: Node): ActionType[] {
  const out: ActionType[] = [];
  if (!sameRecord(before.metadata?.labels, after.metadata?.labels)) out.push("UpdateNodeLabel");
  if (
    (before.spec?.unschedulable ?? false) !== (after.spec?.unschedulable ?? false) ||
    JSON.stringify(before.spec?.taints ?? []) !== JSON.stringify(after.spec?.taints ?? [])
  ) {
    out.push("UpdateNodeTaint");
  }
  if (!sameAllocatable(nodeAllocatable(before), nodeAllocatable(after))) out.push("UpdateNodeAllocatable");
  return out;
}

/** What changed between two versions of a pod, as action types. */
export function podUpdateActions(before: Pod, after: Pod): ActionType[] {
  const out: ActionType[] = [];
  if (!sameRecord(before.metadata?.labels, after.metadata?.labels)) out.push("UpdatePodLabel");
  // A status write (most updates: every pod reported Running) leaves the spec as it was, and an
  // informer decodes unchanged bytes into the very object it already holds (shared_decode.ts).
  if (before.spec === after.spec) return out;
  const a = requestsOf(before.spec);
  const b = requestsOf(after.spec);
  if (b.milliCpu < a.milliCpu || b.memoryBytes < a.memoryBytes) out.push("UpdatePodScaleDown");
  if (JSON.stringify(before.spec?.tolerations ?? []) !== JSON.stringify(after.spec?.tolerations ?? [])) out.push("UpdatePodTolerations");
  return out;
}

/** A pod's requests as PodInfo counts them: none when a quantity cannot be parsed. */
function requestsOf(spec: Pod["spec"]): Requests {
  try {
    return podRequests(spec);
  } catch {
    return { milliCpu: 0, memoryBytes: 0 };
  }
}
