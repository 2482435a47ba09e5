// The election's share of a failover gap, apart from any machine's load: kill → the lease acquired
// by a candidate, with the real LeaderElector on fake clocks against an in-process API server (no
// write latency, no Raft). The holder renews until a kill at a random moment; the candidate started
// at a random phase. What is left of the gap on a real cluster is the acquiring write, the new
// scheduler's start and its first binding (bench-scheduler --only failover reports those).
// Usage: npx tsx bench/scheduler/takeover_timing.ts [--runs 40] [--lease-duration-ms 3000 --renew-deadline-ms 2000 --retry-period-ms 1000]

import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { SeededRandom } from '../../raft/core/random.js';
import { testServer } from '../../pkg/apiserver/test_util.js';
import { LeaderElector } from '../../pkg/client/leaderelection/mod.js';
import { FakeClock } from '../../pkg/client/testing/fake_clock.js';
import { RecordingClient } from '../../pkg/controllers/testing/recording_client.js';
import { percentile } from '../store/stats.js';

/** Both clocks move in steps of this much while the holder lives. */
const STEP_MS = 10;
/** The candidate's clock moves in steps of this much after the kill (the figures' resolution). */
const AFTER_STEP_MS = 5;

function flag(values: Record<string, string | undefined>, name: string, min: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`Invalid --${name} "${v}": expected an integer >= ${min}`);
  return n;
}

async function oneKill(random: SeededRandom, timings: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number }): Promise<number> {
  const t = await testServer({ namespaces: ['default', 'kube-system'] });
  const client = new RecordingClient(t.server);
  const elector = (identity: string, clock: FakeClock) =>
    new LeaderElector({ client, clock, leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', identity, ...timings, registry: new Registry(), callbacks: { onStartedLeading() {} } });
  const holderClock = new FakeClock(0);
  const candidateClock = new FakeClock(0);
  const holder = elector('holder', holderClock);
  holder.start();
  await holderClock.advance(0);
  const period = timings.retryPeriodMs ?? 1000;
  const candidateStartMs = Math.floor(random.float() * period);
  const killAtMs = 5 * period + Math.floor(random.float() * period);
  let candidate: LeaderElector | undefined;
  for (let now = 0; now < killAtMs; now += STEP_MS) {
    if (!candidate && now >= candidateStartMs) {
      candidate = elector('candidate', candidateClock);
      candidate.start();
    }
    await holderClock.advance(STEP_MS);
    await candidateClock.advance(STEP_MS);
  }
  // The holder's clock never moves again: it is dead.
  let afterMs = 0;
  while (!candidate!.isLeader()) {
    await candidateClock.advance(AFTER_STEP_MS);
    afterMs += AFTER_STEP_MS;
  }
  await candidate!.stop();
  return afterMs;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '40' }, 'lease-duration-ms': { type: 'string' }, 'renew-deadline-ms': { type: 'string' }, 'retry-period-ms': { type: 'string' }, seed: { type: 'string', default: '1' } },
  });
  const runs = flag(values, 'runs', 1)!;
  const timings = { leaseDurationMs: flag(values, 'lease-duration-ms', 1000), renewDeadlineMs: flag(values, 'renew-deadline-ms', 1), retryPeriodMs: flag(values, 'retry-period-ms', 1) };
  const random = new SeededRandom(flag(values, 'seed', 0)!);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await oneKill(random, timings));
  samples.sort((a, b) => a - b);
  const shown = Object.entries(timings).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(', ') || 'default timings';
  console.log(`kill → lease acquired by the election logic alone (${shown}; ${runs} kills at random moments): min ${samples[0]} ms, p50 ${percentile(samples, 0.5)} ms, p90 ${percentile(samples, 0.9)} ms, max ${samples.at(-1)} ms`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`takeover_timing: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
