import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { FakeRuntime } from '../runtime/fake.js';
import { runFakeContainer } from './fake_pods.js';
import { parseMeminfo, parseProcStatCpuNanos, type NodeProc } from './proc.js';
import { StatsSampler } from './sampler.js';

const statText = (user: number, system: number, idle: number): string =>
  `cpu  ${user} 0 ${system} ${idle} 7 0 3 0 0 0\ncpu0 ${user} 0 ${system} ${idle} 7 0 3 0 0 0\nintr 12345\nctxt 99\n`;
const meminfo = (totalKb: number, availableKb: number): string => `MemTotal:       ${totalKb} kB\nMemFree:         1000 kB\nMemAvailable:   ${availableKb} kB\nBuffers:          10 kB\n`;

describe('proc parsing', () => {
  it('counts busy ticks (not idle or iowait) as nanoseconds', () => {
    assert.equal(parseProcStatCpuNanos(statText(100, 50, 9999)), (100 + 50 + 3) * 10_000_000);
  });
  it('reads memory working set as MemTotal - MemAvailable', () => {
    assert.deepEqual(parseMeminfo(meminfo(2_000_000, 1_500_000)), { totalBytes: 2_000_000 * 1024, workingSetBytes: 500_000 * 1024 });
  });
  it('names what is missing', () => {
    assert.throws(() => parseProcStatCpuNanos('intr 1\n'), /no aggregate "cpu" line/);
    assert.throws(() => parseMeminfo('MemTotal: 10 kB\n'), /no MemAvailable line/);
  });
});

class FixedProc implements NodeProc {
  stat = statText(0, 0, 0);
  mem = meminfo(4_000_000, 3_000_000);
  cpuNanos = (): number => parseProcStatCpuNanos(this.stat);
  memory = () => parseMeminfo(this.mem);
}

describe('StatsSampler', () => {
  it('reports node and container CPU as rates over its last window, memory as of the last sample', async () => {
    const clock = new FakeClock(1_000_000);
    const rt = new FakeRuntime(clock);
    const proc = new FixedProc();
    const web = await runFakeContainer(rt, { namespace: 'default', pod: 'web', uid: 'u1', container: 'httpd' }, { cpuUsageNanos: 5e9, memoryWorkingSetBytes: 10 << 20 });
    const sampler = new StatsSampler({ runtime: rt, proc, clock, intervalMs: 10_000 });
    sampler.start();
    await clock.advance(0);
    assert.equal(sampler.summary(), undefined, 'one sample gives no rate');

    // Over the next 10 s: the node is busy 250 ticks (2.5 s of CPU: 250m), the container uses 1 s (100m).
    proc.stat = statText(200, 50, 1000);
    proc.mem = meminfo(4_000_000, 2_000_000);
    rt.setUsage(web, { cpuUsageNanos: 6e9, memoryWorkingSetBytes: 20 << 20 });
    await clock.advance(10_000);
    const s = sampler.summary();
    assert.ok(s);
    assert.equal(s.windowMs, 10_000);
    assert.equal(s.timestampMs, 1_010_000);
    assert.equal(s.nodeCpuNanocores, 250_000_000);
    assert.equal(s.nodeMemoryWorkingSetBytes, 2_000_000 * 1024);
    assert.equal(s.nodeMemoryTotalBytes, 4_000_000 * 1024);
    assert.deepEqual(s.pods, [{ namespace: 'default', name: 'web', uid: 'u1', containers: [{ name: 'httpd', cpuNanocores: 100_000_000, memoryWorkingSetBytes: 20 << 20 }] }]);
    sampler.stop();
  });

  it('leaves out containers seen once and stopped ones; stop leaves no timer', async () => {
    const clock = new FakeClock(0);
    const rt = new FakeRuntime(clock);
    const sampler = new StatsSampler({ runtime: rt, proc: new FixedProc(), clock, intervalMs: 5_000 });
    const a = await runFakeContainer(rt, { namespace: 'ns', pod: 'a', uid: 'ua', container: 'c' });
    sampler.start();
    await clock.advance(0);
    await runFakeContainer(rt, { namespace: 'ns', pod: 'b', uid: 'ub', container: 'c' });
    await clock.advance(5_000);
    assert.deepEqual(sampler.summary()?.pods.map((p) => p.name), ['a'], 'b has one sample only');
    await rt.signalContainer(a, 'SIGKILL');
    await clock.advance(5_000);
    assert.deepEqual(sampler.summary()?.pods.map((p) => p.name), ['b'], 'a no longer runs');
    sampler.stop();
    await clock.advance(60_000);
    assert.equal(clock.nextDueMs(), undefined, 'no timer left after stop');
  });

  it('gives no rate for a counter that went back (a restarted container)', async () => {
    const clock = new FakeClock(0);
    const rt = new FakeRuntime(clock);
    const id = await runFakeContainer(rt, { namespace: 'ns', pod: 'a', uid: 'ua', container: 'c' }, { cpuUsageNanos: 9e9, memoryWorkingSetBytes: 1 });
    const sampler = new StatsSampler({ runtime: rt, proc: new FixedProc(), clock });
    await sampler.sampleOnce();
    rt.setUsage(id, { cpuUsageNanos: 1e9, memoryWorkingSetBytes: 1 });
    await clock.advance(10_000);
    await sampler.sampleOnce();
    assert.deepEqual(sampler.summary()?.pods, []);
  });
});
