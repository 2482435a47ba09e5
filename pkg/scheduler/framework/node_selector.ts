// Node selection as a pod states it: spec.nodeSelector (exact labels) and node affinity terms
// (matchExpressions on labels with In, NotIn, Exists, DoesNotExist, Gt, Lt; matchFields on
// metadata.name). Requirements in a term are ANDed, terms are ORed. A term that is malformed or
// empty matches no node, as Kubernetes' lazy-error selectors do.

import type { NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PreferredSchedulingTerm } from "../../../gen/navarch/api/v1/core.js";
import type { NodeInfo } from "./node_info.js";

export const OBJECT_NAME_FIELD = "metadata.name";

type Op = "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";

interface Requirement {
  key: string;
  op: Op;
  values: readonly string[];
  /** The bound for Gt and Lt. */
  bound: number;
}

const INTEGER = /^[+-]?[0-9]+$/;

function compileRequirement(r: NodeSelectorRequirement, field: boolean): Requirement | undefined {
  const key = r.key ?? "";
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
    case "NotIn":
      if (field ? values.length !== 1 : values.length === 0) return undefined;
      return { key, op: r.operator, values, bound: 0 };
    case "Exists":
    case "DoesNotExist":
      if (field || values.length !== 0) return undefined;
      return { key, op: r.operator, values, bound: 0 };
    case "Gt":
    case "Lt":
      if (field || values.length !== 1 || !INTEGER.test(values[0])) return undefined;
      return { key, op: r.operator, values, bound: Number(values[0]) };
    default:
      return undefined;
  }
}

function requirementMatches(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case "In":
      return value !== undefined && r.values.includes(value);
    case "NotIn":
      return value === undefined || !r.values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || !INTEGER.test(value)) return false;
      const n = Number(value);
      return r.op === "Gt" ? n > r.bound : n < r.bound;
    }
  }
}

export class CompiledNodeSelectorTerm {
  private constructor(
    private readonly labels: readonly Requirement[],
    private readonly fields: readonly Requirement[],
    /** False when a requirement is malformed or the term is empty: it then matches nothing. */
    readonly valid: boolean,
  ) {}

  static compile(term: NodeSelectorTerm | undefined): CompiledNodeSelectorTerm {
    const labels: Requirement[] = [];
    const fields: Requirement[] = [];
    let valid = true;
    for (const r of term?.matchExpressions ?? []) {
      const c = compileRequirement(r, false);
      if (c === undefined) valid = false;
      else labels.push(c);
    }
    for (const r of term?.matchFields ?? []) {
      const c = r.key === OBJECT_NAME_FIELD ? compileRequirement(r, true) : undefined;
      if (c === undefined) valid = false;
      else fields.push(c);
    }
    if (labels.length === 0 && fields.length === 0) valid = false;
    return new CompiledNodeSelectorTerm(labels, fields, valid);
  }

  matches(node: NodeInfo): boolean {
    if (!this.valid) return false;
    const labels = node.labels;
    for (const r of this.labels) {
      if (!requirementMatches(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined)) return false;
    }
    for (const r of this.fields) if (!requirementMatches(r, node.name)) return false;
    return true;
  }
}

/** spec.nodeSelector AND the required node affinity: the nodes a pod may run on at all. */
export class RequiredNodeAffinity {
  private constructor(
    private readonly selector: readonly (readonly [string, string])[],
    /** undefined: no required node affinity; []: one with no terms, which matches nothing. */
    private readonly terms: readonly CompiledNodeSelectorTerm[] | undefined,
  ) {}

  static of(spec: PodSpec | undefined): RequiredNodeAffinity {
    const selector = Object.entries(spec?.nodeSelector ?? {});
    const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    const terms = required === undefined ? undefined : (required.nodeSelectorTerms ?? []).map((t) => CompiledNodeSelectorTerm.compile(t));
    return new RequiredNodeAffinity(selector, terms);
  }

  /** Nothing to check: every node matches. */
  isEmpty(): boolean {
    return this.selector.length === 0 && this.terms === undefined;
  }

  matches(node: NodeInfo): boolean {
    const labels = node.labels;
    for (const [k, v] of this.selector) if (labels[k] !== v || !Object.prototype.hasOwnProperty.call(labels, k)) return false;
    if (this.terms === undefined) return true;
    for (const t of this.terms) if (t.matches(node)) return true;
    return false;
  }
}

/** Preferred node affinity: a node scores the sum of the weights of the terms it matches. */
export class PreferredNodeAffinity {
  private constructor(private readonly terms: readonly { weight: number; term: CompiledNodeSelectorTerm }[]) {}

  static of(terms: readonly PreferredSchedulingTerm[]): PreferredNodeAffinity {
    return new PreferredNodeAffinity(
      terms.filter((t) => (t.weight ?? 0) !== 0).map((t) => ({ weight: t.weight ?? 0, term: CompiledNodeSelectorTerm.compile(t.preference) })),
    );
  }

  get length(): number {
    return this.terms.length;
  }

  score(node: NodeInfo): number {
    let s = 0;
    for (const t of this.terms) if (t.term.matches(node)) s += t.weight;
    return s;
  }
}
