// What a pod asks for and what a node offers, in the units the scheduler compares: cpu in
// millicores, memory in bytes, and every other resource (ephemeral-storage, extended resources
// such as nvidia.com/gpu, hugepages) in its units. Requests follow Kubernetes' PodRequests: the
// larger of the containers' sum and each init container (sidecars, init containers with
// restartPolicy Always, keep running and add up), plus the pod's overhead.

import type { Container, PodSpec } from "../../../gen/navarch/api/v1/core.js";
import type { Node } from "../../api/registry.js";
import { Quantity } from "../../api/quantity.js";

/** What the scoring plugins assume for a container that does not say (Kubernetes' defaults). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST_BYTES = 200 * 1024 * 1024;

export interface Requests {
  milliCpu: number;
  memoryBytes: number;
  /** Other resources asked for (ephemeral-storage, nvidia.com/gpu, ...), when any. */
  scalar?: ReadonlyMap<string, number>;
}

/** Resources that are not cpu or memory (or the node's pod count), which fit like them. */
const isScalar = (name: string): boolean => name !== "cpu" && name !== "memory" && name !== "pods";

export class ResourceParseError extends RangeError {
  constructor(
    readonly fieldPath: string,
    readonly value: string,
    negative = false,
  ) {
    super(
      negative
        ? `Cannot use quantity ${JSON.stringify(value)} at ${fieldPath}: a request may not be negative`
        : `Cannot parse quantity ${JSON.stringify(value)} at ${fieldPath}: expected a quantity such as "500m" or "1Gi"`,
    );
    this.name = "ResourceParseError";
  }
}

/** Parsed quantities by text: pods repeat the same few ("100m", "500Mi"), and parsing uses bigints. */
const PARSED_MAX_ENTRIES = 4096;
const parsedCpu = new Map<string, number>();
const parsedBytes = new Map<string, number>();

function parse(map: { [key: string]: string } | undefined, key: string, path: () => string): number | undefined {
  const text = map?.[key];
  if (text === undefined) return undefined;
  const cache = key === "cpu" ? parsedCpu : parsedBytes;
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const q = Quantity.tryParse(text);
  if (q === undefined) throw new ResourceParseError(`${path()}.${key}`, text);
  if (q.sign() < 0) throw new ResourceParseError(`${path()}.${key}`, text, true);
  const v = key === "cpu" ? q.milliValue() : q.value();
  if (cache.size >= PARSED_MAX_ENTRIES) cache.clear();
  cache.set(text, v);
  return v;
}

function containerRequests(c: Container, path: () => string, nonZero: boolean): Requests {
  const req = c.resources?.requests;
  const cpu = parse(req, "cpu", () => `${path()}.resources.requests`);
  const mem = parse(req, "memory", () => `${path()}.resources.requests`);
  return {
    milliCpu: cpu ?? (nonZero ? DEFAULT_MILLI_CPU_REQUEST : 0),
    memoryBytes: mem ?? (nonZero ? DEFAULT_MEMORY_REQUEST_BYTES : 0),
    scalar: scalars(req, () => `${path()}.resources.requests`),
  };
}

/** The resources in `map` other than cpu and memory, parsed; undefined when there are none (most pods). */
function scalars(map: { [key: string]: string } | undefined, path: () => string): Map<string, number> | undefined {
  let out: Map<string, number> | undefined;
  for (const name in map) {
    if (!isScalar(name)) continue;
    const v = parse(map, name, path) ?? 0;
    (out ??= new Map()).set(name, v);
  }
  return out;
}

/** a += b (sum) or a = max(a, b), per resource. */
function combine(a: Map<string, number> | undefined, b: ReadonlyMap<string, number> | undefined, how: "sum" | "max"): Map<string, number> | undefined {
  if (b === undefined) return a;
  const out = a ?? new Map<string, number>();
  for (const [k, v] of b) out.set(k, how === "sum" ? (out.get(k) ?? 0) + v : Math.max(out.get(k) ?? 0, v));
  return out;
}

/**
 * The pod's effective requests. With nonZero, a container that omits cpu or memory counts as
 * Kubernetes' defaults (100m, 200Mi), which is what the scoring plugins use so that pods
 * without requests still spread. Throws ResourceParseError naming the field.
 */
export function podRequests(spec: PodSpec | undefined, nonZero = false): Requests {
  let milliCpu = 0;
  let memoryBytes = 0;
  let scalar: Map<string, number> | undefined;
  const containers = spec?.containers ?? [];
  for (let i = 0; i < containers.length; i++) {
    const r = containerRequests(containers[i], () => `spec.containers[${i}]`, nonZero);
    milliCpu += r.milliCpu;
    memoryBytes += r.memoryBytes;
    scalar = combine(scalar, r.scalar, "sum");
  }
  let sidecarScalar: Map<string, number> | undefined;
  let initScalar: Map<string, number> | undefined;
  let sidecarCpu = 0;
  let sidecarMem = 0;
  let initCpu = 0;
  let initMem = 0;
  const inits = spec?.initContainers ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    const r = containerRequests(c, () => `spec.initContainers[${i}]`, nonZero);
    let cpu: number;
    let mem: number;
    if (c.restartPolicy === "Always") {
      milliCpu += r.milliCpu;
      memoryBytes += r.memoryBytes;
      sidecarCpu += r.milliCpu;
      sidecarMem += r.memoryBytes;
      cpu = sidecarCpu;
      mem = sidecarMem;
      scalar = combine(scalar, r.scalar, "sum");
      sidecarScalar = combine(sidecarScalar, r.scalar, "sum");
      initScalar = combine(initScalar, sidecarScalar, "max");
    } else {
      // A plain init container runs beside the sidecars started before it.
      cpu = r.milliCpu + sidecarCpu;
      mem = r.memoryBytes + sidecarMem;
      if (r.scalar !== undefined) initScalar = combine(initScalar, combine(combine(undefined, sidecarScalar, "sum"), r.scalar, "sum"), "max");
    }
    if (cpu > initCpu) initCpu = cpu;
    if (mem > initMem) initMem = mem;
  }
  if (initCpu > milliCpu) milliCpu = initCpu;
  if (initMem > memoryBytes) memoryBytes = initMem;
  if (initScalar !== undefined) scalar = combine(scalar, initScalar, "max");
  milliCpu += parse(spec?.overhead, "cpu", () => "spec.overhead") ?? 0;
  memoryBytes += parse(spec?.overhead, "memory", () => "spec.overhead") ?? 0;
  scalar = combine(scalar, scalars(spec?.overhead, () => "spec.overhead"), "sum");
  return scalar === undefined ? { milliCpu, memoryBytes } : { milliCpu, memoryBytes, scalar };
}

export interface PodRequests {
  requests: Requests;
  /** With Kubernetes' defaults for what a container does not ask for (podRequests' nonZero). */
  nonZero: Requests;
}

/**
 * The last answer for pods whose first container is a shared part (shared_decode.ts: frozen, the
 * one object for the same bytes). Pods of one template ask for the same, bound or not, and each
 * PodInfo would otherwise parse it again: the scheduler builds one per pod queued and per binding.
 */
const EMPTY = Object.freeze({});
const byFirstContainer = new WeakMap<Container, { spec: PodSpec; answer: PodRequests }>();

/** podRequests(spec, false) and podRequests(spec, true). Throws as podRequests does. */
export function podRequestsBoth(spec: PodSpec | undefined): PodRequests {
  const first = spec?.containers?.[0];
  // Frozen lists of frozen parts: what was asked for cannot change behind the answer kept.
  const shared = first !== undefined && Object.isFrozen(spec!.containers) && Object.isFrozen(spec!.initContainers ?? []) && Object.isFrozen(spec!.overhead ?? EMPTY);
  if (shared) {
    const hit = byFirstContainer.get(first);
    if (hit !== undefined && sameRequestParts(hit.spec, spec!)) return hit.answer;
  }
  const answer = { requests: podRequests(spec, false), nonZero: podRequests(spec, true) };
  if (shared) byFirstContainer.set(first, { spec: spec!, answer });
  return answer;
}

/** Whether two specs hold the same (frozen) containers, init containers and overhead: all podRequests reads. */
function sameRequestParts(a: PodSpec, b: PodSpec): boolean {
  return sameFrozenList(a.containers, b.containers) && sameFrozenList(a.initContainers, b.initContainers) && sameQuantities(a.overhead, b.overhead);
}

function sameFrozenList(a: readonly Container[] | undefined, b: readonly Container[] | undefined): boolean {
  const n = a?.length ?? 0;
  if (n !== (b?.length ?? 0)) return false;
  for (let i = 0; i < n; i++) if (a![i] !== b![i] || !Object.isFrozen(b![i])) return false;
  return true;
}

function sameQuantities(a: { [key: string]: string } | undefined, b: { [key: string]: string } | undefined): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (b?.[k] !== a[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

export interface Allocatable {
  milliCpu: number;
  memoryBytes: number;
  pods: number;
  /** Every other resource the node offers (ephemeral-storage, nvidia.com/gpu, ...). */
  scalar: ReadonlyMap<string, number>;
}

function lenient(map: { [key: string]: string }, key: string): number {
  const text = map[key];
  if (text === undefined) return 0;
  const q = Quantity.tryParse(text);
  if (q === undefined || q.sign() < 0) return 0;
  return key === "cpu" ? q.milliValue() : q.value();
}

/**
 * What the node offers. An empty allocatable falls back to capacity, as the API server's defaulting
 * does; a malformed quantity offers nothing rather than failing every pod.
 */
export function nodeAllocatable(node: Node): Allocatable {
  const status = node.status;
  let map = status?.allocatable ?? {};
  if (Object.keys(map).length === 0) map = status?.capacity ?? {};
  const scalar = new Map<string, number>();
  for (const name in map) if (isScalar(name)) scalar.set(name, lenient(map, name));
  return { milliCpu: lenient(map, "cpu"), memoryBytes: lenient(map, "memory"), pods: lenient(map, "pods"), scalar };
}

/** Whether two nodes offer the same of every resource. */
export function sameAllocatable(a: Allocatable, b: Allocatable): boolean {
  if (a.milliCpu !== b.milliCpu || a.memoryBytes !== b.memoryBytes || a.pods !== b.pods || a.scalar.size !== b.scalar.size) return false;
  for (const [k, v] of a.scalar) if (b.scalar.get(k) !== v) return false;
  return true;
}
