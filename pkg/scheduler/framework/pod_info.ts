// A pod with everything the plugins need parsed once: requests, priority, and its inter-pod
// (anti-)affinity terms as compiled selectors. Built once per pod, then shared by every cycle
// and by the snapshot, so the hot paths never re-parse quantities or selectors.

import type { LabelSelector } from "../../../gen/navarch/api/v1/meta.js";
import type { PodAffinityTerm, WeightedPodAffinityTerm } from "../../../gen/navarch/api/v1/core.js";
import type { Pod } from "../../api/registry.js";
import { type Labels, type Requirement, Selector, sameLabels, selectorFromLabelSelector } from "../../api/labels.js";
import { RequiredNodeAffinity } from "./node_selector.js";
import { podRequestsBoth, type Requests } from "./resources.js";
import { type HostPort, podHostPorts } from "./host_ports.js";

export interface AffinityTerm {
  readonly selector: Selector;
  /** Namespaces named by the term; the owner's own namespace when neither field is set. */
  readonly namespaces: ReadonlySet<string>;
  /** Matches nothing when the term has no namespaceSelector. */
  readonly namespaceSelector: Selector;
  readonly topologyKey: string;
  /** Equal for terms that select the same pods on the same topology: an index key. */
  readonly signature: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const NO_TERMS: readonly never[] = Object.freeze([]);

/** Whether a term selects a pod: by namespace (listed, or through the namespace's labels), then labels. */
export function termMatches(t: AffinityTerm, pod: Pick<PodInfo, "namespace" | "labels">, namespaceLabels: Labels): boolean {
  if (!t.namespaces.has(pod.namespace) && !t.namespaceSelector.matches(namespaceLabels)) return false;
  return t.selector.matches(pod.labels);
}

function withLabelKeys(base: Selector, term: PodAffinityTerm, ownerLabels: Readonly<Record<string, string>>): Selector {
  const extra: Requirement[] = [];
  for (const key of term.matchLabelKeys ?? []) {
    const v = ownerLabels[key];
    if (v !== undefined) extra.push({ key, operator: "in", values: [v] });
  }
  for (const key of term.mismatchLabelKeys ?? []) {
    const v = ownerLabels[key];
    if (v !== undefined) extra.push({ key, operator: "notin", values: [v] });
  }
  if (extra.length === 0 || base.isNothing()) return base;
  return Selector.of([...base.requirements, ...extra]);
}

function compileTerm(
  term: PodAffinityTerm,
  ownerNamespace: string,
  ownerLabels: Readonly<Record<string, string>>,
  path: string,
): AffinityTerm {
  let selector: Selector;
  let namespaceSelector: Selector;
  try {
    selector = withLabelKeys(selectorFromLabelSelector(term.labelSelector), term, ownerLabels);
  } catch (e) {
    throw new RangeError(`Cannot use ${path}.labelSelector: ${(e as Error).message}`);
  }
  const listed = term.namespaces ?? [];
  const nsSel: LabelSelector | undefined = term.namespaceSelector;
  const namespaces = new Set<string>(listed.length === 0 && nsSel === undefined ? [ownerNamespace] : listed);
  try {
    namespaceSelector = selectorFromLabelSelector(nsSel);
  } catch (e) {
    throw new RangeError(`Cannot use ${path}.namespaceSelector: ${(e as Error).message}`);
  }
  const topologyKey = term.topologyKey ?? "";
  if (topologyKey === "") throw new RangeError(`Cannot use ${path}.topologyKey: it is empty`);
  const nsText = [...namespaces].sort().join(",");
  const signature = `${topologyKey}|${nsText}|${namespaceSelector.isNothing() ? "-" : namespaceSelector.toString()}|${selector.isNothing() ? "-" : selector.toString()}`;
  return { selector, namespaces, namespaceSelector, topologyKey, signature };
}

function compileRequired(terms: readonly PodAffinityTerm[], ns: string, labels: Readonly<Record<string, string>>, path: string): AffinityTerm[] {
  return terms.map((t, i) => compileTerm(t, ns, labels, `${path}[${i}]`));
}

function compileWeighted(
  terms: readonly WeightedPodAffinityTerm[],
  ns: string,
  labels: Readonly<Record<string, string>>,
  path: string,
): WeightedAffinityTerm[] {
  const out: WeightedAffinityTerm[] = [];
  terms.forEach((w, i) => {
    if (w.podAffinityTerm === undefined) return;
    out.push({ ...compileTerm(w.podAffinityTerm, ns, labels, `${path}[${i}].podAffinityTerm`), weight: w.weight ?? 0 });
  });
  return out;
}

export function podKey(pod: Pod): string {
  const m = pod.metadata;
  return m?.uid || `${m?.namespace ?? ""}/${m?.name ?? ""}`;
}

/**
 * Whether `next` differs from `prev` in nothing a PodInfo parses: the same spec object (shared
 * decoding hands a pod's unchanged spec out again: see pkg/api/convert/shared_decode.ts), the same
 * identity, labels and deletion. A status write (the pod started, its IP) is such a change.
 */
export function onlyStatusChanged(prev: Pod, next: Pod): boolean {
  const a = prev.metadata;
  const b = next.metadata;
  return (
    prev.spec === next.spec &&
    a?.uid === b?.uid &&
    a?.namespace === b?.namespace &&
    a?.name === b?.name &&
    a?.deletionTimestamp === b?.deletionTimestamp &&
    sameLabels(a?.labels, b?.labels)
  );
}

export class PodInfo {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** spec.priority, resolved from the PriorityClass by whoever admitted the pod; 0 if unset. */
  readonly priority: number;
  readonly requests: Requests;
  /** Requests with Kubernetes' defaults for containers that name none: what scoring uses. */
  readonly nonZeroRequests: Requests;
  /** Host ports it takes on its node (NodePorts). */
  readonly hostPorts: readonly HostPort[];
  readonly requiredAffinityTerms: readonly AffinityTerm[] = NO_TERMS;
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[] = NO_TERMS;
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[] = NO_TERMS;
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[] = NO_TERMS;
  /** Has any pod affinity or anti-affinity, required or preferred. */
  readonly hasAffinity: boolean;
  readonly hasRequiredAntiAffinity: boolean;
  /** Has terms that change other pods' scores: required affinity, or preferred (anti-)affinity. */
  readonly hasScoringAffinity: boolean;
  /** Being deleted: not counted by topology spread. */
  readonly terminating: boolean;
  /** status.startTime in ms since the epoch, for preemption's tie-breaks; undefined if not started. */
  readonly startTimeMs: number | undefined;
  /** Why the pod's spec cannot be scheduled as written (a bad quantity or selector), if it cannot. */
  readonly parseError: string | undefined;

  private nodeAffinity: RequiredNodeAffinity | undefined;
  private nodeAffinityText: string | undefined;

  /** spec.nodeSelector and the required node affinity as text: equal for pods that may go to the same nodes. */
  get requiredNodeAffinityKey(): string {
    if (this.nodeAffinityText === undefined) {
      const spec = this.pod.spec;
      const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
      const selector = Object.entries(spec?.nodeSelector ?? {}).sort();
      this.nodeAffinityText = selector.length === 0 && required === undefined ? "" : JSON.stringify([selector, required ?? null]);
    }
    return this.nodeAffinityText;
  }

  /** spec.nodeSelector and the required node affinity, compiled on first use. */
  get requiredNodeAffinity(): RequiredNodeAffinity {
    return (this.nodeAffinity ??= RequiredNodeAffinity.of(this.pod.spec));
  }

  /**
   * `sameSpecAs`: an older version of this pod with the same spec object and the same labels (see
   * onlyStatusChanged): what was parsed from those is taken from it instead of parsed again.
   */
  constructor(
    readonly pod: Pod,
    sameSpecAs?: PodInfo,
  ) {
    const meta = pod.metadata;
    const spec = pod.spec;
    this.key = podKey(pod);
    this.namespace = meta?.namespace ?? "";
    this.name = meta?.name ?? "";
    this.labels = meta?.labels ?? EMPTY_LABELS;
    this.priority = spec?.priority ?? 0;
    this.terminating = meta?.deletionTimestamp !== undefined && meta.deletionTimestamp !== "";
    const start = pod.status?.startTime;
    const ms = start ? Date.parse(start) : NaN;
    this.startTimeMs = Number.isNaN(ms) ? undefined : ms;
    if (sameSpecAs !== undefined) {
      const p = sameSpecAs;
      this.requests = p.requests;
      this.nonZeroRequests = p.nonZeroRequests;
      this.hostPorts = p.hostPorts;
      this.requiredAffinityTerms = p.requiredAffinityTerms;
      this.requiredAntiAffinityTerms = p.requiredAntiAffinityTerms;
      this.preferredAffinityTerms = p.preferredAffinityTerms;
      this.preferredAntiAffinityTerms = p.preferredAntiAffinityTerms;
      this.hasAffinity = p.hasAffinity;
      this.hasRequiredAntiAffinity = p.hasRequiredAntiAffinity;
      this.hasScoringAffinity = p.hasScoringAffinity;
      this.parseError = p.parseError;
      this.nodeAffinity = p.nodeAffinity;
      this.nodeAffinityText = p.nodeAffinityText;
      return;
    }
    let parseError: string | undefined;
    let requests: Requests = { milliCpu: 0, memoryBytes: 0 };
    let nonZero: Requests = { milliCpu: 0, memoryBytes: 0 };
    try {
      ({ requests, nonZero } = podRequestsBoth(spec));
    } catch (e) {
      parseError = (e as Error).message;
    }
    this.requests = requests;
    this.nonZeroRequests = nonZero;
    this.hostPorts = podHostPorts(pod);
    const pa = spec?.affinity?.podAffinity;
    const paa = spec?.affinity?.podAntiAffinity;
    this.hasAffinity = pa !== undefined || paa !== undefined;
    if (this.hasAffinity) {
      try {
        const ns = this.namespace;
        const l = this.labels;
        const a = "spec.affinity.podAffinity";
        const aa = "spec.affinity.podAntiAffinity";
        const req = "requiredDuringSchedulingIgnoredDuringExecution";
        const pref = "preferredDuringSchedulingIgnoredDuringExecution";
        this.requiredAffinityTerms = compileRequired(pa?.[req] ?? [], ns, l, `${a}.${req}`);
        this.requiredAntiAffinityTerms = compileRequired(paa?.[req] ?? [], ns, l, `${aa}.${req}`);
        this.preferredAffinityTerms = compileWeighted(pa?.[pref] ?? [], ns, l, `${a}.${pref}`);
        this.preferredAntiAffinityTerms = compileWeighted(paa?.[pref] ?? [], ns, l, `${aa}.${pref}`);
      } catch (e) {
        parseError ??= (e as Error).message;
      }
    }
    this.hasRequiredAntiAffinity = this.requiredAntiAffinityTerms.length > 0;
    this.hasScoringAffinity =
      this.requiredAffinityTerms.length > 0 || this.preferredAffinityTerms.length > 0 || this.preferredAntiAffinityTerms.length > 0;
    this.parseError = parseError;
  }
}
