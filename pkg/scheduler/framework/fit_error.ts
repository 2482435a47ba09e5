// Why a pod fits no node, worded exactly as kube-scheduler's FitError so that FailedScheduling
// events read the same: "0/5000 nodes are available: 3 Insufficient cpu, 4997 node(s) didn't
// match Pod's node affinity/selector."

import type { NodeStatuses } from "./interface.js";
import type { PodInfo } from "./pod_info.js";
import type { Status } from "./status.js";

export const NO_NODES_AVAILABLE_MESSAGE = "no nodes available to schedule pods";

export interface Diagnosis extends NodeStatuses {
  /** Plugins that rejected the pod somewhere: the cluster events that may help are theirs. */
  readonly unschedulablePlugins: ReadonlySet<string>;
  /** Set when a PreFilter rejected the pod outright; then node reasons are not listed. */
  readonly preFilterMsg: string;
  /** What preemption said, appended to the message. */
  readonly postFilterMsg: string;
}

export class FitError extends Error {
  constructor(
    readonly pod: PodInfo,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super(fitErrorMessage(numAllNodes, diagnosis));
    this.name = "FitError";
  }
}

/** Each reason with the number of nodes that gave it, sorted as strings ("10 x" before "3 y"), as Kubernetes does. */
export function reasonHistogram(numAllNodes: number, nodes: NodeStatuses): string[] {
  const counts = new Map<string, number>();
  const add = (s: Status, n: number): void => {
    for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + n);
  };
  for (const s of nodes.statuses.values()) add(s, 1);
  const absent = numAllNodes - nodes.statuses.size;
  if (nodes.absent !== undefined && absent > 0) add(nodes.absent, absent);
  const out: string[] = [];
  for (const [reason, n] of counts) out.push(`${n} ${reason}`);
  return out.sort();
}

export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  if (numAllNodes === 0 && d.preFilterMsg === "") return NO_NODES_AVAILABLE_MESSAGE;
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg !== "") {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const reasons = reasonHistogram(numAllNodes, d);
    if (reasons.length > 0) msg += ` ${reasons.join(", ")}.`;
  }
  // Preemption's message is itself a FitError message, already ending with a period.
  if (d.postFilterMsg !== "") msg += d.postFilterMsg.endsWith(".") ? ` ${d.postFilterMsg}` : ` ${d.postFilterMsg}.`;
  return msg;
}
