// Label selectors: the text form (`app=web,tier!=db,env in (a,b),!canary`) and the API form
// (LabelSelector with matchLabels and matchExpressions), one Selector type for both.

import type { LabelSelector } from "../../gen/navarch/api/v1/meta.js";
import { type FieldError, type FieldPath, fieldErrors } from "./field_errors.js";
import { isQualifiedName, isValidLabelValue } from "./validation/names.js";

export type LabelOperator = "=" | "!=" | "in" | "notin" | "exists" | "!exists" | "gt" | "lt";

export interface Requirement {
  key: string;
  operator: LabelOperator;
  /** Sorted; one value for = and !=, an integer for gt and lt, none for exists and !exists. */
  values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | undefined;

/** Whether two label sets hold the same keys and values (undefined is the empty set). No arrays made: it runs for every pod update. */
export function sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  const x = a ?? {};
  const y = b ?? {};
  let n = 0;
  for (const k in x) {
    if (x[k] !== y[k] || !Object.prototype.hasOwnProperty.call(y, k)) return false;
    n++;
  }
  for (const _ in y) n--;
  return n === 0;
}

export class LabelSelectorSyntaxError extends SyntaxError {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`Cannot parse label selector ${JSON.stringify(input)}: ${reason}`);
    this.name = "LabelSelectorSyntaxError";
  }
}

/** Bounds the work a hostile selector can cause. */
export const MAX_SELECTOR_LENGTH = 16384;

function matchesRequirement(r: Requirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels![r.key] : undefined;
  switch (r.operator) {
    case "=":
    case "in":
      return has && r.values.includes(v!);
    case "!=":
    case "notin":
      return !has || !r.values.includes(v!);
    case "exists":
      return has;
    case "!exists":
      return !has;
    case "gt":
    case "lt": {
      if (!has || !/^-?[0-9]+$/.test(v!)) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.operator === "gt" ? n > bound : n < bound;
    }
  }
}

function requirementToString(r: Requirement): string {
  switch (r.operator) {
    case "=":
      return `${r.key}=${r.values[0]}`;
    case "!=":
      return `${r.key}!=${r.values[0]}`;
    case "in":
      return `${r.key} in (${r.values.join(",")})`;
    case "notin":
      return `${r.key} notin (${r.values.join(",")})`;
    case "exists":
      return r.key;
    case "!exists":
      return `!${r.key}`;
    case "gt":
      return `${r.key}>${r.values[0]}`;
    case "lt":
      return `${r.key}<${r.values[0]}`;
  }
}

export class Selector {
  private constructor(
    /** Sorted by key (then operator), as Kubernetes prints them. */
    readonly requirements: readonly Requirement[],
    private readonly nothing: boolean,
  ) {}

  /** Matches every object (the empty selector). */
  static everything(): Selector {
    return new Selector([], false);
  }

  /** Matches no object (a missing API selector). */
  static nothing(): Selector {
    return new Selector([], true);
  }

  static of(requirements: readonly Requirement[]): Selector {
    const sorted = requirements
      .map((r) => ({ ...r, values: [...r.values].sort() }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return new Selector(sorted, false);
  }

  matches(labels: Labels): boolean {
    if (this.nothing) return false;
    for (const r of this.requirements) if (!matchesRequirement(r, labels)) return false;
    return true;
  }

  isEverything(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  isNothing(): boolean {
    return this.nothing;
  }

  /** The text form, parseable by parseLabelSelector: "app=web,tier in (a,b)". */
  toString(): string {
    return this.requirements.map(requirementToString).join(",");
  }

  /** Exact-match requirements (= and single-value in), e.g. to pick an index. */
  equalities(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.requirements) {
      if ((r.operator === "=" || r.operator === "in") && r.values.length === 1) out[r.key] = r.values[0];
    }
    return out;
  }
}

// ---- text form ----

type Token =
  | { t: "id"; v: string; pos: number }
  | { t: "op"; v: "!" | "=" | "==" | "!=" | "(" | ")" | "," | "<" | ">"; pos: number }
  | { t: "end"; pos: number };

function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "=" && input[i + 1] === "=") {
      out.push({ t: "op", v: "==", pos: i });
      i += 2;
    } else if (c === "!" && input[i + 1] === "=") {
      out.push({ t: "op", v: "!=", pos: i });
      i += 2;
    } else if ("!=(),<>".includes(c)) {
      out.push({ t: "op", v: c as "!", pos: i });
      i++;
    } else {
      const start = i;
      while (i < input.length && !" \t\n\r!=(),<>".includes(input[i])) i++;
      out.push({ t: "id", v: input.slice(start, i), pos: start });
    }
  }
  out.push({ t: "end", pos: input.length });
  return out;
}

function describeToken(tok: Token): string {
  return tok.t === "end" ? "end of input" : JSON.stringify(tok.v);
}

/**
 * Parses Kubernetes' selector text: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`,
 * `k>1`, `k<1`, comma-separated (AND). "" selects everything. Keys and values are checked as label
 * keys and values. Throws LabelSelectorSyntaxError naming the position and the problem.
 */
export function parseLabelSelector(input: string): Selector {
  if (input.length > MAX_SELECTOR_LENGTH) {
    throw new LabelSelectorSyntaxError(input.slice(0, 64) + "…", `longer than ${MAX_SELECTOR_LENGTH} characters`);
  }
  const toks = tokenize(input);
  let i = 0;
  const fail = (reason: string): never => {
    throw new LabelSelectorSyntaxError(input, reason);
  };
  const peek = () => toks[i];
  const next = () => toks[i++];
  const expectKey = (): string => {
    const tok = next();
    if (tok.t !== "id") fail(`expected a label key at position ${tok.pos}, found ${describeToken(tok)}`);
    const key = (tok as { v: string }).v;
    const errs = isQualifiedName(key);
    if (errs.length) fail(`invalid label key ${JSON.stringify(key)}: ${errs.join("; ")}`);
    return key;
  };
  const checkValue = (v: string): string => {
    const errs = isValidLabelValue(v);
    if (errs.length) fail(`invalid label value ${JSON.stringify(v)}: ${errs.join("; ")}`);
    return v;
  };
  const reqs: Requirement[] = [];
  if (peek().t === "end") return Selector.everything();
  for (;;) {
    const tok = peek();
    if (tok.t === "op" && tok.v === "!") {
      next();
      reqs.push({ key: expectKey(), operator: "!exists", values: [] });
    } else {
      const key = expectKey();
      const op = peek();
      if (op.t === "end" || (op.t === "op" && op.v === ",")) {
        reqs.push({ key, operator: "exists", values: [] });
      } else if (op.t === "op" && (op.v === "=" || op.v === "==" || op.v === "!=")) {
        next();
        const v = peek();
        let value = "";
        if (v.t === "id") {
          value = v.v;
          next();
        } else if (!(v.t === "end" || (v.t === "op" && v.v === ","))) {
          fail(`expected a value after ${JSON.stringify(op.v)} at position ${v.pos}, found ${describeToken(v)}`);
        }
        reqs.push({ key, operator: op.v === "!=" ? "!=" : "=", values: [checkValue(value)] });
      } else if (op.t === "op" && (op.v === "<" || op.v === ">")) {
        next();
        const v = next();
        if (v.t !== "id" || !/^-?[0-9]+$/.test(v.v)) {
          fail(`expected an integer after ${JSON.stringify(op.v)} at position ${v.pos}, found ${describeToken(v)}`);
        }
        reqs.push({ key, operator: op.v === ">" ? "gt" : "lt", values: [(v as { v: string }).v] });
      } else if (op.t === "id" && (op.v === "in" || op.v === "notin")) {
        next();
        const open = next();
        if (!(open.t === "op" && open.v === "(")) {
          fail(`expected "(" after ${JSON.stringify(op.v)} at position ${open.pos}, found ${describeToken(open)}`);
        }
        const first = peek();
        if (first.t === "op" && first.v === ")") fail(`${JSON.stringify(op.v)} needs at least one value`);
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.t === "id") {
            values.push(checkValue(v.v));
            next();
          } else if (v.t === "op" && (v.v === "," || v.v === ")")) {
            values.push(""); // an empty value, as in "k in (,a)"
          } else {
            fail(`expected a value or ")" at position ${v.pos}, found ${describeToken(v)}`);
          }
          const sep = next();
          if (sep.t === "op" && sep.v === ")") break;
          if (!(sep.t === "op" && sep.v === ",")) fail(`expected "," or ")" at position ${sep.pos}, found ${describeToken(sep)}`);
        }
        reqs.push({ key, operator: op.v, values: [...new Set(values)] });
      } else {
        fail(`expected "=", "!=", "in", "notin" or "," after key ${JSON.stringify(key)} at position ${op.pos}, found ${describeToken(op)}`);
      }
    }
    const sep = next();
    if (sep.t === "end") break;
    if (!(sep.t === "op" && sep.v === ",")) fail(`expected "," at position ${sep.pos}, found ${describeToken(sep)}`);
    if (peek().t === "end") fail("a selector may not end with \",\"");
  }
  return Selector.of(reqs);
}

// ---- API form ----

const API_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

/** Checks a LabelSelector as Kubernetes' ValidateLabelSelector does, with field paths. */
export function validateLabelSelector(sel: LabelSelector | undefined, p: FieldPath): FieldError[] {
  if (!sel) return [];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(fieldErrors.invalid(p.child("matchLabels"), k, m));
    for (const m of isValidLabelValue(v)) errs.push(fieldErrors.invalid(p.child("matchLabels"), v, m));
  }
  (sel.matchExpressions ?? []).forEach((r, i) => {
    const rp = p.child("matchExpressions").index(i);
    const op = r.operator ?? "";
    if (op === "In" || op === "NotIn") {
      if (!r.values?.length) errs.push(fieldErrors.required(rp.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === "Exists" || op === "DoesNotExist") {
      if (r.values?.length) errs.push(fieldErrors.forbidden(rp.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errs.push(fieldErrors.invalid(rp.child("operator"), op, "not a valid selector operator"));
    }
    for (const m of isQualifiedName(r.key ?? "")) errs.push(fieldErrors.invalid(rp.child("key"), r.key ?? "", m));
    for (const v of r.values ?? []) {
      for (const m of isValidLabelValue(v)) errs.push(fieldErrors.invalid(rp.child("values"), v, m));
    }
  });
  return errs;
}

/**
 * The Selector for an API LabelSelector, as Kubernetes' LabelSelectorAsSelector: undefined selects
 * nothing, {} selects everything. Throws RangeError for an operator it does not know.
 */
export function selectorFromLabelSelector(sel: LabelSelector | undefined): Selector {
  if (!sel) return Selector.nothing();
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, operator: "=", values: [v] });
  for (const r of sel.matchExpressions ?? []) {
    const key = r.key ?? "";
    switch (r.operator) {
      case "In":
        reqs.push({ key, operator: "in", values: [...new Set(r.values ?? [])] });
        break;
      case "NotIn":
        reqs.push({ key, operator: "notin", values: [...new Set(r.values ?? [])] });
        break;
      case "Exists":
        reqs.push({ key, operator: "exists", values: [] });
        break;
      case "DoesNotExist":
        reqs.push({ key, operator: "!exists", values: [] });
        break;
      default:
        throw new RangeError(
          `Cannot use label selector operator ${JSON.stringify(r.operator ?? "")}: supported operators are ${API_OPERATORS.map((o) => JSON.stringify(o)).join(", ")}`,
        );
    }
  }
  return Selector.of(reqs);
}

/** Whether labels match an API LabelSelector (undefined matches nothing, {} everything). */
export function labelSelectorMatches(sel: LabelSelector | undefined, labels: Labels): boolean {
  return selectorFromLabelSelector(sel).matches(labels);
}

/** The text form of an API LabelSelector, as kubectl sends it in ?labelSelector= ("app=web"). */
export function labelSelectorToString(sel: LabelSelector | undefined): string {
  return selectorFromLabelSelector(sel).toString();
}

/** A Selector matching exactly these labels (matchLabels alone). */
export function selectorFromSet(labels: Readonly<Record<string, string>>): Selector {
  return Selector.of(Object.entries(labels).map(([key, v]) => ({ key, operator: "=" as const, values: [v] })));
}
