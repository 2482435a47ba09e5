import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { LabeledCounter, LabeledHistogram } from './labeled.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

describe('labeled metrics', () => {
  it('expose what prom-client exposes for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const c = new LabeledCounter({ name: 'requests_total', help: 'Requests', labelNames: ['verb', 'code'], registers: [ours] });
    const pc = new Counter({ name: 'requests_total', help: 'Requests', labelNames: ['verb', 'code'], registers: [theirs] });
    const h = new LabeledHistogram({ name: 'request_seconds', help: 'Latency', labelNames: ['verb'], buckets: BUCKETS, registers: [ours] });
    const ph = new Histogram({ name: 'request_seconds', help: 'Latency', labelNames: ['verb'], buckets: BUCKETS, registers: [theirs] });
    const plain = new LabeledHistogram({ name: 'fsync_seconds', help: 'Fsyncs', buckets: BUCKETS, registers: [ours] });
    const pplain = new Histogram({ name: 'fsync_seconds', help: 'Fsyncs', buckets: BUCKETS, registers: [theirs] });
    const seen: Array<[string, string, number]> = [
      ['create', 'OK', 0.0004],
      ['create', 'OK', 0.001],
      ['get', 'NotFound', 0.05],
      ['create', 'Conflict', 2],
      ['get', 'OK', 0.5],
    ];
    for (const [verb, code, s] of seen) {
      c.inc(c.child(verb, code));
      pc.inc({ verb, code });
      h.observe(h.child(verb), s);
      ph.observe({ verb }, s);
      plain.observe(plain.child(), s);
      pplain.observe(s);
    }
    c.inc(c.child('get', 'OK'), 3);
    pc.inc({ verb: 'get', code: 'OK' }, 3);
    assert.equal(await ours.metrics(), await theirs.metrics());
    // Merged with other registries, as a master serves its components' metrics.
    const merged = async (r: Registry) => AggregatorRegistry.aggregate([await r.getMetricsAsJSON(), await r.getMetricsAsJSON()]).metrics();
    assert.equal(await merged(ours), await merged(theirs));
  });

  it('refuses a wrong number of label values, bad buckets and bad values, naming the metric', () => {
    const c = new LabeledCounter({ name: 'x_total', help: 'x', labelNames: ['a', 'b'] });
    assert.throws(() => c.child('only-one'), /Metric x_total: expected 2 label values \(a, b\), got 1/);
    assert.throws(() => c.inc(c.child('a', 'b'), -1), /x_total: a counter goes up by a finite amount >= 0, got -1/);
    assert.throws(() => new LabeledHistogram({ name: 'h', help: 'h', buckets: [1, 1] }), /Metric h: buckets must be distinct finite numbers/);
    const h = new LabeledHistogram({ name: 'h2', help: 'h', buckets: [1] });
    assert.throws(() => h.observe(h.child(), Number.NaN), /Metric h2: cannot observe NaN/);
  });

  it('keeps a handle for its label set, good after a reset to zero', async () => {
    const r = new Registry();
    const c = new LabeledCounter({ name: 'y_total', help: 'y', labelNames: ['a'], registers: [r] });
    const h = new LabeledHistogram({ name: 'z_seconds', help: 'z', buckets: [1], registers: [r] });
    const one = c.child('1');
    assert.equal(c.child('1'), one);
    c.inc(one);
    h.observe(h.child(), 0.5);
    assert.match(await r.metrics(), /y_total\{a="1"\} 1/);
    r.resetMetrics();
    assert.match(await r.metrics(), /y_total\{a="1"\} 0/);
    assert.match(await r.metrics(), /z_seconds_count 0/);
    c.inc(one, 2);
    assert.match(await r.metrics(), /y_total\{a="1"\} 2/);
  });
});
