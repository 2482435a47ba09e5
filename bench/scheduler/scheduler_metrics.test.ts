import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from './config.js';
import { diff, parseHistogram, parseSchedulerMetrics, quantileMs } from './scheduler_metrics.js';

const text = (n1: number, n2: number, inf: number): string =>
  [
    `scheduler_pod_scheduling_sli_duration_seconds_bucket{le="0.01",attempts="1"} ${n1}`,
    `scheduler_pod_scheduling_sli_duration_seconds_bucket{le="0.1",attempts="1"} ${n2}`,
    `scheduler_pod_scheduling_sli_duration_seconds_bucket{le="+Inf",attempts="1"} ${inf}`,
    `scheduler_pod_scheduling_sli_duration_seconds_bucket{le="0.01",attempts="2"} 0`,
    `scheduler_pod_scheduling_sli_duration_seconds_bucket{le="0.1",attempts="2"} 0`,
    `scheduler_pod_scheduling_sli_duration_seconds_bucket{le="+Inf",attempts="2"} 0`,
  ].join('\n');

test('the scheduling SLI histogram is summed over label sets, diffed and read as quantiles within buckets', () => {
  const before = parseHistogram(text(10, 10, 10))!;
  const after = parseHistogram(text(60, 110, 110))!;
  const h = diff(after, before);
  assert.equal(h.count, 100);
  assert.equal(quantileMs(h, 0.5), 10);
  assert.ok(Math.abs(quantileMs(h, 0.99) - (10 + 90 * (49 / 50))) < 1e-9);
  assert.equal(parseHistogram('other_metric 1'), undefined);
});

test("the scheduler's Events written and dropped are read from its recorder's counters, other components left out", () => {
  const m = parseSchedulerMetrics(
    [
      'event_recorder_writes_total{component="default-scheduler",result="created"} 90',
      'event_recorder_writes_total{component="default-scheduler",result="patched"} 5',
      'event_recorder_writes_total{component="default-scheduler",result="skipped"} 7',
      'event_recorder_writes_total{component="node-controller",result="created"} 3',
      'event_recorder_dropped_events_total{component="default-scheduler"} 12',
      'event_recorder_dropped_events_total{component="node-controller"} 1',
    ].join('\n'),
  );
  assert.deepEqual(m.events, { written: 95, dropped: 12 });
  assert.equal(m.sli, undefined);
});

test('bench flags are checked before any cluster starts', () => {
  const cfg = parseConfig(['--nodes', '500', '--pods', '1000,2000', '--only', 'basic,failover']);
  assert.ok(cfg !== 'help');
  assert.deepEqual(cfg.pods, [1000, 2000]);
  assert.deepEqual(cfg.initPods, [100, 200], "a tenth of each size, as scheduler_perf's initPods");
  const given = parseConfig(['--pods', '10000,50000', '--init-pods', '0,5000']);
  assert.ok(given !== 'help');
  assert.deepEqual(given.initPods, [0, 5000]);
  assert.throws(() => parseConfig(['--pods', '10000,50000', '--init-pods', '1000']), /one count per --pods size \(2\)/);
  assert.deepEqual([...cfg.only], ['basic', 'failover']);
  assert.throws(() => parseConfig(['--only', 'basics']), /Invalid --only "basics"/);
  assert.throws(() => parseConfig(['--nodes', '100', '--anti-affinity-pods', '200']), /at most one per node/);
});
