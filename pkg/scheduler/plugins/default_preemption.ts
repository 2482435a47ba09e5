// DefaultPreemption (PostFilter): when no node fits, find a node where evicting lower-priority
// pods makes room, evicting as few and as unimportant pods as possible. It only chooses: the
// caller evicts the victims and records the nominated node on the pod.

import type { Random } from "../../../raft/core/random.js";
import type { CycleState } from "../framework/cycle_state.js";
import { fitErrorMessage } from "../framework/fit_error.js";
import type { FrameworkHandle, NodeStatuses, PostFilterPlugin, PostFilterResult } from "../framework/interface.js";
import type { NodeInfo } from "../framework/node_info.js";
import type { PodInfo } from "../framework/pod_info.js";
import { Code, Status } from "../framework/status.js";

export const DEFAULT_PREEMPTION = "DefaultPreemption";
export const MSG_NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const MSG_NO_VICTIMS = "No preemption victims found for incoming pod";
export const MSG_POLICY_NEVER = "not eligible due to preemptionPolicy=Never.";
export const MSG_TERMINATING_ON_NOMINATED = "not eligible due to a terminating pod on the nominated node.";

export interface DefaultPreemptionArgs {
  /** Dry-run at least this share of the nodes where preemption might help (Kubernetes: 10). */
  minCandidateNodesPercentage?: number;
  /** ...and at least this many (Kubernetes: 100). */
  minCandidateNodesAbsolute?: number;
}

export interface Candidate {
  node: string;
  /** Most important first. */
  victims: PodInfo[];
}

const MAX_INT32 = 2147483647;
const NO_VICTIMS = new Status(Code.UnschedulableAndUnresolvable, [MSG_NO_VICTIMS], DEFAULT_PREEMPTION);

function hasLowerPriorityPod(node: NodeInfo, priority: number): boolean {
  for (const p of node.pods) if (p.priority < priority) return true;
  return false;
}

/** Higher priority first; then the one that started earlier (a pod not started counts as starting now). */
export function moreImportant(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return (a.startTimeMs ?? Number.MAX_SAFE_INTEGER) < (b.startTimeMs ?? Number.MAX_SAFE_INTEGER);
}

function byImportance(a: PodInfo, b: PodInfo): number {
  return moreImportant(a, b) ? -1 : moreImportant(b, a) ? 1 : 0;
}

/**
 * The fewest, least important pods to remove from `node` (a copy, changed in place) so the pod
 * fits, or the status saying why no removal helps. Keeps as many of the more important pods as it
 * can: all lower-priority pods go, then each is put back, most important first, if it still fits.
 */
export function selectVictimsOnNode(
  state: CycleState,
  pod: PodInfo,
  node: NodeInfo,
  handle: FrameworkHandle,
): { victims: PodInfo[]; status: Status | null } {
  const potential = node.pods.filter((p) => p.priority < pod.priority);
  if (potential.length === 0) return { victims: [], status: NO_VICTIMS };
  for (const p of potential) {
    node.removePod(p.key);
    handle.runPreFilterRemovePod(state, pod, p, node);
  }
  const s = handle.runFilterPluginsWithNominatedPods(state, pod, node);
  if (s !== null) return { victims: [], status: s };
  potential.sort(byImportance);
  const victims: PodInfo[] = [];
  for (const p of potential) {
    node.addPod(p);
    handle.runPreFilterAddPod(state, pod, p, node);
    if (handle.runFilterPluginsWithNominatedPods(state, pod, node) !== null) {
      node.removePod(p.key);
      handle.runPreFilterRemovePod(state, pod, p, node);
      victims.push(p);
    }
  }
  return { victims, status: null };
}

/** Kubernetes' pickOneNodeForPreemption, without PodDisruptionBudgets: each rule narrows the ties of the one before. */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  for (const c of candidates) if (c.victims.length === 0) return c;
  const rules: ((c: Candidate) => number)[] = [
    (c) => -c.victims[0].priority,
    (c) => -c.victims.reduce((sum, v) => sum + v.priority + MAX_INT32 + 1, 0),
    (c) => -c.victims.length,
    (c) => {
      // The latest start among the most important victims' earliest starts: evict the youngest.
      const top = c.victims[0].priority;
      let earliest = Number.MAX_SAFE_INTEGER;
      for (const v of c.victims) if (v.priority === top && (v.startTimeMs ?? Number.MAX_SAFE_INTEGER) < earliest) earliest = v.startTimeMs ?? earliest;
      return earliest;
    },
  ];
  let left = candidates;
  for (const rule of rules) {
    let max = -Infinity;
    let best: Candidate[] = [];
    for (const c of left) {
      const score = rule(c);
      if (score > max) {
        max = score;
        best = [];
      }
      if (score === max) best.push(c);
    }
    if (best.length === 1) return best[0];
    left = best;
  }
  return left[0];
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = DEFAULT_PREEMPTION;
  private readonly minPercentage: number;
  private readonly minAbsolute: number;

  constructor(args: DefaultPreemptionArgs = {}) {
    this.minPercentage = args.minCandidateNodesPercentage ?? 10;
    this.minAbsolute = args.minCandidateNodesAbsolute ?? 100;
  }

  postFilter(
    state: CycleState,
    pod: PodInfo,
    nodes: NodeStatuses,
    handle: FrameworkHandle,
    random: Random,
  ): { result: PostFilterResult | undefined; status: Status | null } {
    const fail = (msg: string): { result: undefined; status: Status } => ({
      result: undefined,
      status: new Status(Code.Unschedulable, [`preemption: ${msg}`], DEFAULT_PREEMPTION),
    });
    const snapshot = state.snapshot;
    const statusOf = (name: string): Status | undefined => nodes.statuses.get(name) ?? nodes.absent;
    const notEligible = this.notEligible(pod, statusOf, snapshot.get(pod.pod.status?.nominatedNodeName ?? ""));
    if (notEligible !== undefined) return fail(notEligible);

    const statuses = new Map<string, Status>();
    const potential: NodeInfo[] = [];
    const notHelpful = new Status(Code.UnschedulableAndUnresolvable, [MSG_NOT_HELPFUL], DEFAULT_PREEMPTION);
    for (const n of snapshot.nodeInfos) {
      if (statusOf(n.name)?.code === Code.UnschedulableAndUnresolvable) statuses.set(n.name, notHelpful);
      else potential.push(n);
    }
    const candidates: Candidate[] = [];
    if (potential.length > 0) {
      const wanted = this.numCandidates(potential.length);
      const offset = random.intn(potential.length);
      for (let i = 0; i < potential.length && candidates.length < wanted; i++) {
        const node = potential[(offset + i) % potential.length];
        // Most nodes usually have nothing to evict: say so before paying for the copies.
        if (!hasLowerPriorityPod(node, pod.priority)) {
          statuses.set(node.name, NO_VICTIMS);
          continue;
        }
        const { victims, status } = selectVictimsOnNode(state.clone(), pod, node.clone(), handle);
        if (status === null && victims.length > 0) candidates.push({ node: node.name, victims });
        else statuses.set(node.name, status ?? new Status(Code.Error, [`expected at least one victim pod on node ${JSON.stringify(node.name)}`], DEFAULT_PREEMPTION));
      }
    }
    const best = pickOneNodeForPreemption(candidates);
    if (best === undefined) {
      // As Kubernetes: no node can make room, so a nomination the pod holds from before is cleared.
      return withClearedNomination(fail(
        fitErrorMessage(statuses.size, {
          statuses,
          absent: undefined,
          unschedulablePlugins: new Set(),
          preFilterMsg: "",
          postFilterMsg: "",
        }),
      ));
    }
    const lowerPriorityNominatedPods = [...(snapshot.nominatedPods(best.node)?.values() ?? [])].filter(
      (p) => p.priority < pod.priority && p.key !== pod.key,
    );
    return { result: { nominatedNodeName: best.node, victims: best.victims, lowerPriorityNominatedPods }, status: null };
  }

  /** Why the pod may not preempt, or undefined if it may. */
  private notEligible(pod: PodInfo, statusOf: (name: string) => Status | undefined, nominated: NodeInfo | undefined): string | undefined {
    if (pod.pod.spec?.preemptionPolicy === "Never") return MSG_POLICY_NEVER;
    // A pod that already preempted waits for its victims to finish leaving rather than evicting more.
    if (nominated !== undefined && statusOf(nominated.name)?.code !== Code.UnschedulableAndUnresolvable) {
      for (const p of nominated.pods) if (p.terminating && p.priority < pod.priority) return MSG_TERMINATING_ON_NOMINATED;
    }
    return undefined;
  }

  private numCandidates(numNodes: number): number {
    let n = Math.trunc((numNodes * this.minPercentage) / 100);
    if (n < this.minAbsolute) n = this.minAbsolute;
    return n > numNodes ? numNodes : n;
  }
}

/** A refusal that also clears the pod's nomination (Kubernetes' NewPostFilterResultWithNominatedNode("")). */
function withClearedNomination(r: { result: undefined; status: Status }): { result: PostFilterResult; status: Status } {
  return { result: { nominatedNodeName: "", victims: [], lowerPriorityNominatedPods: [] }, status: r.status };
}
