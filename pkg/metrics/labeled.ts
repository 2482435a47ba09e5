// Counters and histograms for a server's hot path. prom-client builds a string from the label
// object and checks every label on each inc or observe, four times per request on a busy master;
// here a label set is looked up once per call by its values and the update is plain arithmetic.
// They register in prom-client registries as ordinary metrics, with the same exposition.

import type { Registry } from 'prom-client';

interface LabeledOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers?: Registry[];
}

/** What prom-client's registries read from a metric (its get()). */
interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

abstract class Labeled<L extends string, C extends { labels: Record<string, string> }> {
  readonly aggregator = 'sum';
  readonly labelNames: readonly L[];
  protected readonly children = new Map<string, C>();

  constructor(o: LabeledOptions<L>) {
    this.labelNames = o.labelNames ?? [];
    this.name = o.name;
    this.help = o.help;
    for (const r of o.registers ?? []) r.registerMetric(this as never);
  }

  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'histogram';

  /** The handle of one label set: its values in labelNames order. Keep it, or ask each time (one map lookup). */
  child(...values: string[]): C {
    const key = values.length === 1 ? values[0] : values.join('\u0000');
    let c = this.children.get(key);
    if (c === undefined) {
      if (values.length !== this.labelNames.length) {
        throw new Error(`Metric ${this.name}: expected ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${values.length}`);
      }
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]));
      c = this.make(labels);
      this.children.set(key, c);
    }
    return c;
  }

  protected abstract make(labels: Record<string, string>): C;
  protected abstract values(): MetricValue[];

  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  /** Sets every label set back to zero (prom-client's reset); handles already given out stay good. */
  reset(): void {
    for (const c of this.children.values()) this.zero(c);
  }

  protected abstract zero(child: C): void;
}

export interface CounterChild {
  readonly labels: Record<string, string>;
  value: number;
}

export class LabeledCounter<L extends string = string> extends Labeled<L, CounterChild> {
  readonly type = 'counter';

  inc(child: CounterChild, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new RangeError(`Metric ${this.name}: a counter goes up by a finite amount >= 0, got ${by}`);
    child.value += by;
  }

  protected make(labels: Record<string, string>): CounterChild {
    return { labels, value: 0 };
  }

  protected zero(c: CounterChild): void {
    c.value = 0;
  }

  protected values(): MetricValue[] {
    return [...this.children.values()].map((c) => ({ labels: { ...c.labels }, value: c.value }));
  }
}

export interface HistogramChild {
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last one is past every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class LabeledHistogram<L extends string = string> extends Labeled<L, HistogramChild> {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];

  constructor(o: LabeledOptions<L> & { buckets: readonly number[] }) {
    super(o);
    const sorted = [...o.buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new RangeError(`Metric ${this.name}: buckets must be distinct finite numbers, got ${JSON.stringify(o.buckets)}`);
    }
    this.upperBounds = sorted;
    if (this.labelNames.includes('le' as L)) throw new RangeError(`Metric ${this.name}: "le" is the buckets' label`);
  }

  observe(child: HistogramChild, value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`Metric ${this.name}: cannot observe ${value}`);
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    child.counts[i]++;
    child.sum += value;
    child.count++;
  }

  protected make(labels: Record<string, string>): HistogramChild {
    return { labels, counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
  }

  protected zero(c: HistogramChild): void {
    c.counts.fill(0);
    c.sum = 0;
    c.count = 0;
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.values()) {
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += c.counts[i];
        out.push({ labels: { le, ...c.labels }, value: acc, metricName: bucket });
      });
      out.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: bucket });
      out.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
      out.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
