// make bench-store: a 3-member etcd 3.4 and a 3-master Navarch on this machine, one after the
// other, under the same loads (KV through the etcd3 client, etcdctl check perf, watch latency
// and fan-out), plus Navarch's object API; prints both with the Navarch/etcd ratio.
// Usage: npx tsx bench/store/main.ts [--help]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheckPerf } from './check_perf.js';
import { type BenchConfig, parseConfig, type SystemName, USAGE } from './config.js';
import { runKv } from './kv_load.js';
import { runObjects } from './objects_load.js';
import { emptyResults, formatJson, formatReport, type Results, type SystemResults } from './report.js';
import { startSystem, type SystemUnderTest } from './systems.js';
import { runFanout, runWatchLatency } from './watch_load.js';

const log = (name: string) => (line: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${name}: ${line}\n`);
};

/** Runs one phase; a failure is recorded and the other phases still run. */
async function phase(name: string, out: SystemResults, say: (l: string) => void, run: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  try {
    await run();
  } catch (e) {
    const why = (e as Error).message;
    out.failures.push(`${name}: ${why}`);
    say(`${name} failed: ${why}`);
  }
  say(`${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function benchSystem(sut: SystemUnderTest, cfg: BenchConfig): Promise<SystemResults> {
  const out = emptyResults();
  const say = log(sut.name);
  const ops = (['put', 'get'] as const).filter((op) => cfg.only.has(op === 'put' ? 'puts' : 'gets'));
  if (ops.length) {
    await phase('kv', out, say, async () => {
      out.kv = await runKv({ endpoints: sut.endpoints, ops, inflight: cfg.inflight, seconds: cfg.seconds, valueBytes: cfg.valueBytes, log: say });
    });
  }
  if (cfg.only.has('watch')) {
    await phase('watch', out, say, async () => {
      const w = await runWatchLatency({ endpoints: sut.endpoints, rate: cfg.watchPutsPerSecond, seconds: cfg.seconds, valueBytes: cfg.valueBytes });
      out.watch = w;
      say(`watch at ${cfg.watchPutsPerSecond}/s: ack→event p50 ${w.ackToEvent.p50Ms.toFixed(2)} ms, p99 ${w.ackToEvent.p99Ms.toFixed(2)} ms; ${w.putsPerSecondDone.toFixed(0)} puts/s done`);
    });
  }
  if (cfg.only.has('fanout')) {
    for (const watchers of cfg.watchers) {
      await phase(`fan-out to ${watchers}`, out, say, async () => {
        const r = await runFanout({ endpoints: sut.endpoints, watchers, watchersPerStream: cfg.watchersPerStream, puts: cfg.fanoutPuts, memberPid: sut.pids()[0] });
        out.fanout.push(r);
        say(`fan-out to ${watchers}: p50 ${r.sendToLast.p50Ms.toFixed(1)} ms, p99 ${r.sendToLast.p99Ms.toFixed(1)} ms, attach ${r.attachMs.toFixed(0)} ms, RSS ${r.rssWithWatchersMiB.toFixed(0)} MiB`);
      });
    }
  }
  if (cfg.only.has('perf')) {
    for (const load of cfg.perfLoads) {
      await phase(`check perf --load=${load}`, out, say, async () => {
        const r = await runCheckPerf(sut.endpoints, load);
        out.perf.push(r);
        say(`check perf --load=${load}: ${r.verdicts.join('; ')}`);
      });
    }
  }
  if (sut.name === 'navarch' && cfg.only.has('pods')) {
    await phase('pods', out, say, async () => {
      out.objects = await runObjects({ endpoints: sut.endpoints, pids: sut.pids, pods: cfg.pods, inflight: cfg.podInflight, listLimit: cfg.listLimit, log: say });
    });
  }
  return out;
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  if (cfg === 'help') {
    console.log(USAGE);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-store-'));
  const results: Results = {};
  const t0 = performance.now();
  try {
    // One system at a time: the two share this machine's cores.
    for (const name of cfg.systems as SystemName[]) {
      const say = log(name);
      say(`starting 3 members under ${dir}`);
      const sut = await startSystem(name, dir, { snapshotEntries: cfg.snapshotEntries, cpuProfDir: cfg.cpuProfDir });
      try {
        results[name] = await benchSystem(sut, cfg);
      } finally {
        await sut.stop();
      }
    }
  } finally {
    if (cfg.keep) process.stderr.write(`Data dirs and logs kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  console.log(formatReport(results, cfg));
  console.log(`Total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`BENCH_STORE_JSON ${formatJson(results, cfg)}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
