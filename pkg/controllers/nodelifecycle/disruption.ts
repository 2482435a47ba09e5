// How fast nodes may be given the NoExecute taint (which evicts their pods), per zone, as
// Kubernetes' node lifecycle controller: a token bucket per zone at evictionLimiterQps (0.1
// nodes/s, burst 1) while the zone is healthy; when most of a zone is down (partial disruption)
// the rate drops to secondaryEvictionLimiterQps in large zones and to 0 in small ones; and when
// every node of every zone is down, the fault is more likely the masters' view than the nodes, so
// nothing is evicted at all.

import type { Clock } from '../../../raft/node/ports.js';
import type { Node } from '../../api/registry.js';

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';

export function zoneOf(node: Node): string {
  const l = node.metadata?.labels ?? {};
  return `${l[REGION_LABEL] ?? ''}:${l[ZONE_LABEL] ?? ''}`;
}

export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** Kubernetes' ComputeZoneState. */
export function zoneState(ready: number, notReady: number, unhealthyZoneThreshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (ready + notReady) >= unhealthyZoneThreshold) return 'PartialDisruption';
  return 'Normal';
}

export interface DisruptionOptions {
  /** @default 0.1 */
  evictionLimiterQps?: number;
  /** @default 0.01 */
  secondaryEvictionLimiterQps?: number;
  /** Zones with more nodes than this keep evicting (slowly) in partial disruption. @default 50 */
  largeClusterThreshold?: number;
  /** Fraction of not-ready nodes that makes a zone partially disrupted. @default 0.55 */
  unhealthyZoneThreshold?: number;
}

export interface ZoneCounts {
  ready: number;
  notReady: number;
}

/** Per-zone token buckets for adding NoExecute taints. */
export class ZoneTaintLimiter {
  readonly evictionLimiterQps: number;
  readonly secondaryEvictionLimiterQps: number;
  readonly largeClusterThreshold: number;
  readonly unhealthyZoneThreshold: number;
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly clock: Clock,
    o: DisruptionOptions = {},
  ) {
    this.evictionLimiterQps = o.evictionLimiterQps ?? 0.1;
    this.secondaryEvictionLimiterQps = o.secondaryEvictionLimiterQps ?? 0.01;
    this.largeClusterThreshold = o.largeClusterThreshold ?? 50;
    this.unhealthyZoneThreshold = o.unhealthyZoneThreshold ?? 0.55;
    for (const [name, v] of [
      ['evictionLimiterQps', this.evictionLimiterQps],
      ['secondaryEvictionLimiterQps', this.secondaryEvictionLimiterQps],
      ['largeClusterThreshold', this.largeClusterThreshold],
    ] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`Cannot create the node lifecycle controller: ${name} must be a number >= 0, got ${v}`);
    }
    if (!(this.unhealthyZoneThreshold > 0 && this.unhealthyZoneThreshold <= 1)) {
      throw new RangeError(`Cannot create the node lifecycle controller: unhealthyZoneThreshold must be in (0, 1], got ${this.unhealthyZoneThreshold}`);
    }
  }

  /** The tainting rate of a zone in its state (nodes per second). */
  qpsFor(counts: ZoneCounts): number {
    const state = zoneState(counts.ready, counts.notReady, this.unhealthyZoneThreshold);
    if (state === 'PartialDisruption') return counts.ready + counts.notReady > this.largeClusterThreshold ? this.secondaryEvictionLimiterQps : 0;
    return this.evictionLimiterQps;
  }

  /** Takes a token for the zone and returns 0, or returns how long (ms) until one will be there (Infinity at rate 0). */
  tryTake(zone: string, qps: number): number {
    if (!(qps > 0)) return Infinity;
    const now = this.clock.nowMs();
    const b = this.buckets.get(zone) ?? { tokens: 1, atMs: now };
    b.tokens = Math.min(1, b.tokens + (qps * Math.max(0, now - b.atMs)) / 1000);
    b.atMs = now;
    this.buckets.set(zone, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / qps) * 1000);
  }
}
