// The final tables (markdown, both systems side by side with the Navarch/etcd ratio) and one
// JSON line for the notes.

import type { CheckPerfResult } from './check_perf.js';
import type { BenchConfig, SystemName } from './config.js';
import type { KvResult } from './kv_load.js';
import type { ObjectsResult } from './objects_load.js';
import type { LatencySummary } from './stats.js';
import type { FanoutResult, WatchLatencyResult } from './watch_load.js';

export interface SystemResults {
  kv: KvResult[];
  perf: CheckPerfResult[];
  watch?: WatchLatencyResult;
  fanout: FanoutResult[];
  objects?: ObjectsResult;
  /** Phases that failed, with why. */
  failures: string[];
}

export type Results = Partial<Record<SystemName, SystemResults>>;

export const emptyResults = (): SystemResults => ({ kv: [], perf: [], fanout: [], failures: [] });

const f = (n: number | undefined, digits = 0): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const ms = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const lat = (s: LatencySummary | undefined): string => (s ? `${ms(s.p50Ms)} / ${ms(s.p99Ms)}` : '–');
const ratio = (nav: number | undefined, etcd: number | undefined): string =>
  nav === undefined || etcd === undefined || !Number.isFinite(nav) || !Number.isFinite(etcd) || etcd === 0 ? '–' : `${(nav / etcd).toFixed(2)}`;

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function kvSection(e: SystemResults | undefined, n: SystemResults | undefined, cfg: BenchConfig): string[] {
  const keys = new Map<string, { op: string; inflight: number }>();
  for (const r of [...(e?.kv ?? []), ...(n?.kv ?? [])]) keys.set(`${r.op} x${r.inflight}`, r);
  if (keys.size === 0) return [];
  const find = (s: SystemResults | undefined, op: string, inflight: number) => s?.kv.find((r) => r.op === op && r.inflight === inflight);
  const rows = [...keys.values()].map(({ op, inflight }) => {
    const a = find(e, op, inflight);
    const b = find(n, op, inflight);
    const errs = (a?.errors ?? 0) + (b?.errors ?? 0);
    return [
      `${op === 'get' ? 'linearizable get' : 'put'} x${inflight}`,
      f(a?.opsPerSecond),
      f(b?.opsPerSecond),
      ratio(b?.opsPerSecond, a?.opsPerSecond),
      lat(a),
      lat(b),
      ratio(b?.p99Ms, a?.p99Ms),
      errs ? `${a?.errors ?? 0} / ${b?.errors ?? 0}` : '0',
    ];
  });
  return [
    `### etcd v3 KV through the etcd3 client (${cfg.valueBytes}-byte values, ${cfg.seconds} s closed loop each)`,
    '',
    ...table(['load', 'etcd ops/s', 'navarch ops/s', 'ops ratio', 'etcd p50 / p99 ms', 'navarch p50 / p99 ms', 'p99 ratio', 'errors etcd / navarch'], rows),
    '',
  ];
}

function perfSection(e: SystemResults | undefined, n: SystemResults | undefined): string[] {
  const loads = [...new Set([...(e?.perf ?? []), ...(n?.perf ?? [])].map((p) => p.load))];
  if (loads.length === 0) return [];
  const cell = (p: CheckPerfResult | undefined): string =>
    p ? `${p.passed ? 'PASS' : 'FAIL'}: ${f(p.writesPerSecond)} writes/s, slowest ${f(p.slowestS, 3)} s, stddev ${f(p.stddevS, 4)} s` : '–';
  const rows = loads.map((l) => {
    const a = e?.perf.find((p) => p.load === l);
    const b = n?.perf.find((p) => p.load === l);
    return [`--load=${l}`, cell(a), cell(b), ratio(b?.writesPerSecond, a?.writesPerSecond)];
  });
  return ['### etcdctl check perf', '', ...table(['load', 'etcd', 'navarch', 'writes/s ratio'], rows), ''];
}

function watchSection(e: SystemResults | undefined, n: SystemResults | undefined, cfg: BenchConfig): string[] {
  const a = e?.watch;
  const b = n?.watch;
  if (!a && !b) return [];
  const extra = (w: WatchLatencyResult | undefined): string =>
    w ? `${f(w.putsPerSecondDone)} puts/s; ${w.errors} errors, ${w.missingEvents} missing events, ${w.latePuts} late puts` : '–';
  return [
    `### Watch: put → event on a watcher of member 1, ${cfg.watchPutsPerSecond} puts/s open loop for ${cfg.seconds} s`,
    '',
    ...table(
      ['metric', 'etcd', 'navarch', 'p99 ratio'],
      [
        ['put acknowledged → event delivered, p50 / p99 ms', lat(a?.ackToEvent), lat(b?.ackToEvent), ratio(b?.ackToEvent.p99Ms, a?.ackToEvent.p99Ms)],
        ['put sent → event delivered, p50 / p99 ms', lat(a?.sendToEvent), lat(b?.sendToEvent), ratio(b?.sendToEvent.p99Ms, a?.sendToEvent.p99Ms)],
        ['put latency, p50 / p99 ms', lat(a?.put), lat(b?.put), ratio(b?.put.p99Ms, a?.put.p99Ms)],
        ['achieved', extra(a), extra(b), ''],
      ],
    ),
    '',
  ];
}

function fanoutSection(e: SystemResults | undefined, n: SystemResults | undefined, cfg: BenchConfig): string[] {
  const sizes = [...new Set([...(e?.fanout ?? []), ...(n?.fanout ?? [])].map((r) => r.watchers))];
  if (sizes.length === 0) return [];
  const rss = (r: FanoutResult | undefined): string => (r ? `${f(r.rssBeforeMiB)} → ${f(r.rssWithWatchersMiB)}` : '–');
  const rows = sizes.map((w) => {
    const a = e?.fanout.find((r) => r.watchers === w);
    const b = n?.fanout.find((r) => r.watchers === w);
    return [
      String(w),
      lat(a?.sendToLast),
      lat(b?.sendToLast),
      ratio(b?.sendToLast.p99Ms, a?.sendToLast.p99Ms),
      `${f(a?.attachMs)} / ${f(b?.attachMs)}`,
      rss(a),
      rss(b),
      `${a?.incompletePuts ?? '–'} / ${b?.incompletePuts ?? '–'}`,
    ];
  });
  return [
    `### Watch fan-out: one key, every watcher on member 1 (${cfg.watchersPerStream} watchers per connection), put sent → last watcher has it, ${cfg.fanoutPuts} puts`,
    '',
    ...table(['watchers', 'etcd p50 / p99 ms', 'navarch p50 / p99 ms', 'p99 ratio', 'attach ms etcd / navarch', 'etcd member RSS MiB (before → with watchers)', 'navarch member RSS MiB', 'puts not fully delivered etcd / navarch'], rows),
    '',
  ];
}

function objectsSection(n: SystemResults | undefined): string[] {
  const o = n?.objects;
  if (!o) return [];
  const c = o.create;
  const rss = (xs: number[]): string => xs.map((x) => f(x)).join(' / ');
  return [
    `### Object API (Navarch only): Pods (${c.storedPodBytes} bytes stored each)`,
    '',
    ...table(
      ['measure', 'value'],
      [
        [`create ${c.pods} pods, ${c.inflight} in flight`, `${f(c.createsPerSecond)} creates/s, p50 ${ms(c.p50Ms)} ms, p99 ${ms(c.p99Ms)} ms, ${f(c.elapsedS, 1)} s in all, ${c.errors} errors${c.firstError ? ` (first: ${c.firstError})` : ''}`],
        ...o.list.map((l) => [
          `list all from master ${l.member}, limit ${o.listLimit}`,
          `${l.items} pods in ${l.pages} pages, ${f(l.totalMs / 1000, 2)} s (${f(l.items / (l.totalMs / 1000))} pods/s), page p50 / p99 ${lat(l.page)} ms`,
        ]),
        ['masters\' RSS MiB after the creates (1 / 2 / 3)', rss(o.rssAfterCreateMiB)],
        ['masters\' RSS MiB after the lists (1 / 2 / 3)', rss(o.rssAfterListMiB)],
      ],
    ),
    '',
  ];
}

/** The issue's targets: Navarch's throughput ≥ etcd's and p99 ≤ etcd's at 64 and 256 in flight; check perf m passes on Navarch. */
function targetsSection(e: SystemResults | undefined, n: SystemResults | undefined): string[] {
  const lines: string[] = [];
  for (const op of ['put', 'get'] as const) {
    for (const inflight of [64, 256]) {
      const a = e?.kv.find((r) => r.op === op && r.inflight === inflight);
      const b = n?.kv.find((r) => r.op === op && r.inflight === inflight);
      if (!a || !b) continue;
      const ok = b.opsPerSecond >= a.opsPerSecond && b.p99Ms <= a.p99Ms;
      lines.push(`- ${op} x${inflight}: ${ok ? 'met' : 'NOT met'} (ops ratio ${ratio(b.opsPerSecond, a.opsPerSecond)}, p99 ratio ${ratio(b.p99Ms, a.p99Ms)})`);
    }
  }
  const m = n?.perf.find((p) => p.load === 'm');
  if (m) lines.push(`- check perf --load=m on Navarch: ${m.passed ? 'met (PASS)' : 'NOT met (FAIL)'}`);
  return lines.length ? ['### Targets (issue 3)', '', ...lines, ''] : [];
}

export function formatReport(results: Results, cfg: BenchConfig): string {
  const e = results.etcd;
  const n = results.navarch;
  const failures = (Object.entries(results) as Array<[SystemName, SystemResults]>).flatMap(([name, r]) => r.failures.map((x) => `- ${name}: ${x}`));
  return [
    '## make bench-store: 3-member etcd 3.4 vs 3 Navarch masters, 127.0.0.1, same machine, same run',
    '',
    ...kvSection(e, n, cfg),
    ...perfSection(e, n),
    ...watchSection(e, n, cfg),
    ...fanoutSection(e, n, cfg),
    ...objectsSection(n),
    ...targetsSection(e, n),
    ...(failures.length ? ['### Phases that failed', '', ...failures, ''] : []),
  ].join('\n');
}

/** One line for the notes: the configuration and every figure. */
export function formatJson(results: Results, cfg: BenchConfig): string {
  return JSON.stringify({ bench: 'store', at: new Date().toISOString(), config: { ...cfg, only: [...cfg.only] }, results }, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v,
  );
}
