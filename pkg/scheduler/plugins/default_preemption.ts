// DefaultPreemption (PostFilter): when no node fits, find a node where evicting lower-priority
// pods makes room, evicting as few and as unimportant pods as possible and, where it can, none
// whose PodDisruptionBudget allows no more disruptions. Budgets are best effort, as in Kubernetes:
// when every way to make room breaks one, the pod still preempts, breaking the fewest. It only
// chooses: the caller evicts the victims and records the nominated node on the pod.

import type { Random } from "../../../raft/core/random.js";
import type { LabelSelector } from "../../../gen/navarch/api/v1/meta.js";
import { type Selector, selectorFromLabelSelector } from "../../api/labels.js";
import type { PodDisruptionBudget } from "../../api/registry.js";
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
  /** The PodDisruptionBudgets preemption tries not to break. @default none: no budget is considered */
  pdbLister?: PdbLister;
}

/** The PodDisruptionBudgets of a namespace (the scheduler's informer, read by namespace). */
export type PdbLister = (namespace: string) => readonly PodDisruptionBudget[];

const NO_PDBS: PdbLister = () => [];

export interface Candidate {
  node: string;
  /** Most important first. */
  victims: PodInfo[];
  /** How many victims break a PodDisruptionBudget. */
  numPDBViolations: number;
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

/** A budget's selector, compiled once per selector object; null when it is invalid (it then matches no pod). */
const compiledSelectors = new WeakMap<LabelSelector, Selector | null>();

function pdbSelector(pdb: PodDisruptionBudget): Selector | null {
  const sel = pdb.spec?.selector;
  if (sel === undefined) return null;
  let compiled = compiledSelectors.get(sel);
  if (compiled === undefined) {
    try {
      compiled = selectorFromLabelSelector(sel);
    } catch {
      compiled = null;
    }
    compiledSelectors.set(sel, compiled);
  }
  return compiled;
}

function hasLabels(pod: PodInfo): boolean {
  for (const _ in pod.labels) return true;
  return false;
}

/**
 * Splits pods into those whose eviction would break a PodDisruptionBudget and the others, keeping
 * their order (Kubernetes' filterPodsWithPDBViolation). Each pod a budget selects takes one of the
 * disruptions the budget allows, from a copy of the count, in the order given; a pod that takes
 * one the budget no longer has is violating. A budget with a missing, empty or invalid selector
 * selects no pod, and neither does any budget select a pod without labels. A pod already in the
 * budget's status.disruptedPods (an eviction the API has granted) takes nothing.
 */
export function filterPodsWithPDBViolation(
  pods: readonly PodInfo[],
  pdbs: PdbLister,
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = new Map<PodDisruptionBudget, number>();
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pod of pods) {
    let violated = false;
    if (hasLabels(pod)) {
      for (const pdb of pdbs(pod.namespace)) {
        if ((pdb.metadata?.namespace ?? "") !== pod.namespace) continue;
        const selector = pdbSelector(pdb);
        if (selector === null || selector.isEverything() || !selector.matches(pod.labels)) continue;
        const disrupted = pdb.status?.disruptedPods;
        if (disrupted !== undefined && Object.hasOwn(disrupted, pod.name)) continue;
        const left = (allowed.get(pdb) ?? pdb.status?.disruptionsAllowed ?? 0) - 1;
        allowed.set(pdb, left);
        if (left < 0) violated = true;
      }
    }
    (violated ? violating : nonViolating).push(pod);
  }
  return { violating, nonViolating };
}

/**
 * The fewest, least important pods to remove from `node` (a copy, changed in place) so the pod
 * fits, or the status saying why no removal helps (Kubernetes' SelectVictimsOnNode). All
 * lower-priority pods go; then each is put back if the pod still fits: first those whose eviction
 * would break a PodDisruptionBudget, then the others, each group most important first. The
 * victims come back most important first; `numViolatingVictim` counts those that break a budget.
 */
export function selectVictimsOnNode(
  state: CycleState,
  pod: PodInfo,
  node: NodeInfo,
  handle: FrameworkHandle,
  pdbs: PdbLister = NO_PDBS,
): { victims: PodInfo[]; numViolatingVictim: number; status: Status | null } {
  const potential = node.pods.filter((p) => p.priority < pod.priority);
  if (potential.length === 0) return { victims: [], numViolatingVictim: 0, status: NO_VICTIMS };
  for (const p of potential) {
    node.removePod(p.key);
    handle.runPreFilterRemovePod(state, pod, p, node);
  }
  const s = handle.runFilterPluginsWithNominatedPods(state, pod, node);
  if (s !== null) return { victims: [], numViolatingVictim: 0, status: s };
  potential.sort(byImportance);
  const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
  const victims: PodInfo[] = [];
  /** Puts `p` back; true if the pod still fits, else `p` is a victim. */
  const reprieve = (p: PodInfo): boolean => {
    node.addPod(p);
    handle.runPreFilterAddPod(state, pod, p, node);
    if (handle.runFilterPluginsWithNominatedPods(state, pod, node) === null) return true;
    node.removePod(p.key);
    handle.runPreFilterRemovePod(state, pod, p, node);
    victims.push(p);
    return false;
  };
  let numViolatingVictim = 0;
  for (const p of violating) if (!reprieve(p)) numViolatingVictim++;
  const firstNonViolating = victims.length;
  for (const p of nonViolating) reprieve(p);
  // Most important first again (Kubernetes' fix #128307, after 1.30): the node choice reads the first victim.
  if (firstNonViolating > 0 && firstNonViolating < victims.length) victims.sort(byImportance);
  return { victims, numViolatingVictim, status: null };
}

/**
 * The start time of the most important victims: the earliest among those of the highest priority
 * (Kubernetes' GetEarliestPodStartTime; the victims need not be sorted). Not started counts as now.
 */
function earliestStartOfMostImportant(victims: readonly PodInfo[]): number {
  const startOf = (v: PodInfo): number => v.startTimeMs ?? Number.MAX_SAFE_INTEGER;
  let top = victims[0].priority;
  let earliest = startOf(victims[0]);
  for (const v of victims) {
    if (v.priority === top) {
      if (startOf(v) < earliest) earliest = startOf(v);
    } else if (v.priority > top) {
      top = v.priority;
      earliest = startOf(v);
    }
  }
  return earliest;
}

/**
 * Kubernetes' pickOneNodeForPreemption: each rule narrows the ties of the one before. The fewest
 * victims breaking a PodDisruptionBudget; the least important most important victim; the lowest
 * sum of priorities; the fewest victims; the latest start of the most important victims; then the
 * first candidate.
 */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  for (const c of candidates) if (c.victims.length === 0) return c;
  const rules: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -c.victims[0].priority,
    (c) => -c.victims.reduce((sum, v) => sum + v.priority + MAX_INT32 + 1, 0),
    (c) => -c.victims.length,
    // The latest start among the most important victims' earliest starts: evict the youngest.
    (c) => earliestStartOfMostImportant(c.victims),
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
  private readonly pdbLister: PdbLister;

  constructor(args: DefaultPreemptionArgs = {}) {
    this.minPercentage = args.minCandidateNodesPercentage ?? 10;
    this.minAbsolute = args.minCandidateNodesAbsolute ?? 100;
    this.pdbLister = args.pdbLister ?? NO_PDBS;
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
    // As Kubernetes' dryRunPreemption: stop once there are enough candidates, at least one of them
    // breaking no budget; candidates that break none come first.
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    if (potential.length > 0) {
      const pdbs = cachedPerNamespace(this.pdbLister);
      const wanted = this.numCandidates(potential.length);
      const offset = random.intn(potential.length);
      for (let i = 0; i < potential.length; i++) {
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= wanted) break;
        const node = potential[(offset + i) % potential.length];
        // Most nodes usually have nothing to evict: say so before paying for the copies.
        if (!hasLowerPriorityPod(node, pod.priority)) {
          statuses.set(node.name, NO_VICTIMS);
          continue;
        }
        const { victims, numViolatingVictim, status } = selectVictimsOnNode(state.clone(), pod, node.clone(), handle, pdbs);
        if (status === null && victims.length > 0) {
          // Both lists hold at most `wanted`, as Kubernetes' fixed-size candidate lists.
          const list = numViolatingVictim === 0 ? nonViolating : violating;
          if (list.length < wanted) list.push({ node: node.name, victims, numPDBViolations: numViolatingVictim });
        } else statuses.set(node.name, status ?? new Status(Code.Error, [`expected at least one victim pod on node ${JSON.stringify(node.name)}`], DEFAULT_PREEMPTION));
      }
    }
    const best = pickOneNodeForPreemption([...nonViolating, ...violating]);
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

/** The lister read once per namespace: one preemption sees the same budgets on every node. */
function cachedPerNamespace(lister: PdbLister): PdbLister {
  if (lister === NO_PDBS) return lister;
  const seen = new Map<string, readonly PodDisruptionBudget[]>();
  return (namespace) => {
    let pdbs = seen.get(namespace);
    if (pdbs === undefined) seen.set(namespace, (pdbs = lister(namespace)));
    return pdbs;
  };
}

/** A refusal that also clears the pod's nomination (Kubernetes' NewPostFilterResultWithNominatedNode("")). */
function withClearedNomination(r: { result: undefined; status: Status }): { result: PostFilterResult; status: Status } {
  return { result: { nominatedNodeName: "", victims: [], lowerPriorityNominatedPods: [] }, status: r.status };
}
