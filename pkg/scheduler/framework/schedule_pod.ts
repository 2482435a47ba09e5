// One scheduling attempt, as kube-scheduler's schedulePod: PreFilter, Filter over a rotating
// window of nodes until enough feasible ones are found, PreScore, Score and NormalizeScore with
// weights, then the best node (ties broken at random). When no node fits, PostFilter
// (preemption) may nominate a node and victims.

import type { Random } from "../../../raft/core/random.js";
import type { Pod } from "../../api/registry.js";
import { CycleState } from "./cycle_state.js";
import { type Diagnosis, FitError } from "./fit_error.js";
import type { Framework } from "./framework.js";
import { MAX_NODE_SCORE, PreFilterResult, type PostFilterResult } from "./interface.js";
import type { NodeInfo } from "./node_info.js";
import { PodInfo } from "./pod_info.js";
import type { Snapshot } from "./snapshot.js";
import { Code, Status } from "./status.js";

/** Kubernetes' floor: below this many nodes, all are searched. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** Kubernetes' floor for the adaptive percentage. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** How many feasible nodes to find before scoring, exactly as kube-scheduler's numFeasibleNodesToFind. */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage === 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

/** A plugin failed in a way that is not about the pod (code Error): retry with backoff. */
export class SchedulingError extends Error {
  constructor(
    readonly pod: PodInfo,
    readonly status: Status,
  ) {
    super(`Cannot schedule pod ${JSON.stringify(`${pod.namespace}/${pod.name}`)}: plugin ${JSON.stringify(status.plugin)} failed: ${status.message()}`);
    this.name = "SchedulingError";
  }
}

export interface ScheduledResult {
  kind: "scheduled";
  pod: PodInfo;
  nodeName: string;
  /** Nodes filtered in this attempt (feasible or not). */
  evaluatedNodes: number;
  feasibleNodes: number;
}

export interface UnschedulableResult {
  kind: "unschedulable";
  pod: PodInfo;
  error: FitError;
  /**
   * Set when preemption found room: the pod should wait for `victims` to go, then try again. With
   * nominatedNodeName "" it found none anywhere: the pod's old nomination no longer holds.
   */
  preemption: PostFilterResult | undefined;
}

export type ScheduleResult = ScheduledResult | UnschedulableResult;

interface MutableDiagnosis {
  statuses: Map<string, Status>;
  absent: Status | undefined;
  unschedulablePlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
}

/**
 * Picks a node for the pod, or explains why none fits. Reads the snapshot only; the caller assumes
 * the pod onto the chosen node. Throws SchedulingError when a plugin reports an internal error.
 */
export function schedulePod(pod: Pod | PodInfo, snapshot: Snapshot, fwk: Framework, random: Random): ScheduleResult {
  const info = pod instanceof PodInfo ? pod : new PodInfo(pod);
  const d: MutableDiagnosis = {
    statuses: new Map(),
    absent: undefined,
    unschedulablePlugins: new Set(),
    preFilterMsg: "",
    postFilterMsg: "",
  };
  const all = snapshot.nodeInfos;
  if (all.length === 0) return unschedulable(info, 0, d, undefined);
  if (info.parseError !== undefined) {
    d.preFilterMsg = info.parseError;
    d.absent = Status.unresolvable(info.parseError);
    return unschedulable(info, all.length, d, undefined);
  }
  const state = new CycleState(snapshot);

  let allowed: Set<string> | undefined;
  const narrowedBy: string[] = [];
  const rejectedAtPreFilter = (s: Status): UnschedulableResult => {
    if (s.plugin !== "") d.unschedulablePlugins.add(s.plugin);
    d.preFilterMsg = s.message();
    d.absent = s;
    return withPostFilter(info, all.length, d, state, fwk, random);
  };
  let rejection: Status | undefined;
  for (const p of fwk.preFilterPlugins) {
    const r = p.preFilter(state, info);
    if (r === null) continue;
    if (r instanceof PreFilterResult) {
      allowed = allowed === undefined ? new Set(r.nodeNames) : new Set([...allowed].filter((n) => r.nodeNames.has(n)));
      narrowedBy.push(p.name);
      if (allowed.size === 0) {
        // As kube-scheduler 1.31: no node left, nothing preemption could do; the plugins in their order.
        for (const name of narrowedBy) d.unschedulablePlugins.add(name);
        const msg = narrowedBy.length === 1 ? `node(s) didn't satisfy plugin ${narrowedBy[0]}` : `node(s) didn't satisfy plugin(s) [${narrowedBy.join(" ")}] simultaneously`;
        return rejectedAtPreFilter(Status.unresolvable(msg));
      }
      continue;
    }
    if (r.code === Code.Skip) {
      state.skipFilterPlugins.add(p.name);
      continue;
    }
    if (r.code === Code.Success) continue;
    const s = r.plugin === "" ? r.withPlugin(p.name) : r;
    if (!s.isRejection()) throw new SchedulingError(info, s);
    // Preemption cannot help: stop here. Otherwise the other PreFilters still run, as Kubernetes
    // runs them, since preemption's what-ifs need their state.
    if (s.code === Code.UnschedulableAndUnresolvable) return rejectedAtPreFilter(s);
    rejection ??= s;
  }
  // As kube-scheduler 1.31: the plugins that narrowed the nodes are among those an event must help
  // before the pod is tried again (a new node of the right name, say).
  narrowedBy.sort();
  for (const name of narrowedBy) d.unschedulablePlugins.add(name);
  if (rejection !== undefined) return rejectedAtPreFilter(rejection);

  let nodes = all;
  if (allowed !== undefined) {
    nodes = all.filter((n) => allowed.has(n.name));
    // Kubernetes' wording for the nodes a PreFilter left out (Go prints the list as "[A B]").
    d.absent = Status.unresolvable(`node(s) didn't satisfy plugin(s) [${narrowedBy.join(" ")}]`);
  }

  const nominated = info.pod.status?.nominatedNodeName;
  if (nominated) {
    const n = snapshot.get(nominated);
    if (n !== undefined && (allowed === undefined || allowed.has(nominated))) {
      const s = fwk.runFilterPluginsWithNominatedPods(state, info, n);
      if (s === null) return { kind: "scheduled", pod: info, nodeName: nominated, evaluatedNodes: 1, feasibleNodes: 1 };
      if (s.code === Code.Error) throw new SchedulingError(info, s);
    }
  }

  const rejected: Rejections = { nodes: [], statuses: [] };
  const feasible = findNodesThatPassFilters(state, info, fwk, nodes, rejected);
  if (feasible.length === 0) {
    // Only a failure needs the statuses by node name.
    for (let i = 0; i < rejected.nodes.length; i++) {
      const st = rejected.statuses[i];
      d.statuses.set(rejected.nodes[i].name, st);
      d.unschedulablePlugins.add(st.plugin);
    }
    return withPostFilter(info, all.length, d, state, fwk, random);
  }
  const evaluatedNodes = feasible.length + rejected.nodes.length;
  if (feasible.length === 1) {
    return { kind: "scheduled", pod: info, nodeName: feasible[0].name, evaluatedNodes, feasibleNodes: 1 };
  }
  const totals = prioritizeNodes(state, info, fwk, feasible);
  const best = selectHost(totals, random);
  return { kind: "scheduled", pod: info, nodeName: feasible[best].name, evaluatedNodes, feasibleNodes: feasible.length };
}

/** The nodes filters rejected in this attempt, with their statuses: parallel arrays, cheaper than a map per node. */
interface Rejections {
  nodes: NodeInfo[];
  statuses: Status[];
}

function findNodesThatPassFilters(
  state: CycleState,
  pod: PodInfo,
  fwk: Framework,
  nodes: readonly NodeInfo[],
  rejected: Rejections,
): NodeInfo[] {
  const n = nodes.length;
  if (n === 0) return [];
  const numToFind = numFeasibleNodesToFind(fwk.percentageOfNodesToScore, n);
  const start = fwk.nextStartNodeIndex % n;
  const feasible = feasibleArrayFor(fwk, Math.min(numToFind, n));
  if (fwk.filterPlugins.length === 0) {
    for (let i = 0; i < feasible.length; i++) feasible[i] = nodes[(start + i) % n];
    fwk.nextStartNodeIndex = (start + numToFind) % n;
    return feasible;
  }
  let found = 0;
  let processed = 0;
  for (let i = 0; i < n && found < numToFind; i++) {
    const node = nodes[(start + i) % n];
    processed++;
    const s = fwk.runFilterPluginsWithNominatedPods(state, pod, node);
    if (s === null) {
      feasible[found++] = node;
      continue;
    }
    if (s.code === Code.Error) throw new SchedulingError(pod, s);
    rejected.nodes.push(node);
    rejected.statuses.push(s);
  }
  feasible.length = found;
  fwk.nextStartNodeIndex = (start + processed) % n;
  return feasible;
}

/**
 * The feasible nodes' array, reused from one pod to the next like the score arrays: 500 nodes are
 * 4 KB a pod otherwise (sized once; grown by push it was copied some ten times on its way there).
 * Good until the framework's next call: schedulePod only returns a node's name.
 */
const feasibleArrays = new WeakMap<Framework, NodeInfo[]>();

function feasibleArrayFor(fwk: Framework, m: number): NodeInfo[] {
  let a = feasibleArrays.get(fwk);
  if (a === undefined) {
    a = new Array(m);
    feasibleArrays.set(fwk, a);
  }
  a.length = m;
  return a;
}

/**
 * Score arrays reused from one pod to the next. A Float64Array of 500 nodes lives outside the heap:
 * two new ones per pod made the scheduler's process scavenge for "external memory pressure".
 */
const scoreArrays = new WeakMap<Framework, { totals: Float64Array; scores: Float64Array }>();

function scoreArraysFor(fwk: Framework, m: number): { totals: Float64Array; scores: Float64Array } {
  let a = scoreArrays.get(fwk);
  if (a === undefined || a.totals.length < m) {
    a = { totals: new Float64Array(m), scores: new Float64Array(m) };
    scoreArrays.set(fwk, a);
  }
  return { totals: a.totals.subarray(0, m).fill(0), scores: a.scores.subarray(0, m) };
}

/**
 * The weighted sum of every score plugin's normalized score, per feasible node. The array is the
 * framework's own, good until its next call.
 */
export function prioritizeNodes(state: CycleState, pod: PodInfo, fwk: Framework, nodes: readonly NodeInfo[]): Float64Array {
  const m = nodes.length;
  const { totals, scores } = scoreArraysFor(fwk, m);
  if (fwk.scorePlugins.length === 0) return totals.fill(1);
  for (const p of fwk.preScorePlugins) {
    const s = p.preScore(state, pod, nodes);
    if (s === null || s.code === Code.Success) continue;
    if (s.code === Code.Skip) {
      state.skipScorePlugins.add(p.name);
      continue;
    }
    throw new SchedulingError(pod, s.plugin === "" ? s.withPlugin(p.name) : s);
  }
  for (const { plugin, weight } of fwk.scorePlugins) {
    if (state.skipScorePlugins.size > 0 && state.skipScorePlugins.has(plugin.name)) continue;
    for (let i = 0; i < m; i++) scores[i] = plugin.score(state, pod, nodes[i]);
    plugin.normalizeScore?.(state, pod, nodes, scores);
    for (let i = 0; i < m; i++) {
      const v = scores[i];
      if (!(v >= 0 && v <= MAX_NODE_SCORE)) {
        throw new SchedulingError(
          pod,
          new Status(Code.Error, [`score ${v} for node ${JSON.stringify(nodes[i].name)} is outside 0..${MAX_NODE_SCORE}`], plugin.name),
        );
      }
      totals[i] += v * weight;
    }
  }
  return totals;
}

/** The index of a highest total; among equals each is equally likely (reservoir sampling, as Kubernetes). */
export function selectHost(totals: Float64Array, random: Random): number {
  let best = 0;
  let max = totals[0];
  let ties = 1;
  for (let i = 1; i < totals.length; i++) {
    const v = totals[i];
    if (v > max) {
      max = v;
      best = i;
      ties = 1;
    } else if (v === max) {
      ties++;
      if (random.intn(ties) === 0) best = i;
    }
  }
  return best;
}

function withPostFilter(
  info: PodInfo,
  numAllNodes: number,
  d: MutableDiagnosis,
  state: CycleState,
  fwk: Framework,
  random: Random,
): UnschedulableResult {
  let result: PostFilterResult | undefined;
  const reasons: string[] = [];
  for (const p of fwk.postFilterPlugins) {
    const { result: r, status } = p.postFilter(state, info, d, fwk, random);
    if (status === null || status.code === Code.Success) {
      result = r;
      reasons.length = 0;
      break;
    }
    reasons.push(...status.reasons);
    // An unschedulable answer may still say what to do with the pod's nomination (clear it: "").
    if (r !== undefined) result = r;
    if (status.code !== Code.Unschedulable) break;
  }
  d.postFilterMsg = reasons.join(", ");
  return unschedulable(info, numAllNodes, d, result);
}

function unschedulable(info: PodInfo, numAllNodes: number, d: Diagnosis, preemption: PostFilterResult | undefined): UnschedulableResult {
  return { kind: "unschedulable", pod: info, error: new FitError(info, numAllNodes, d), preemption };
}
