// The benchmark's flags: parsed and checked up front so a typo fails before any cluster starts.

import { parseArgs } from 'node:util';

export const PHASES = ['puts', 'gets', 'perf', 'watch', 'fanout', 'pods'] as const;
export type Phase = (typeof PHASES)[number];
export const SYSTEMS = ['etcd', 'navarch'] as const;
export type SystemName = (typeof SYSTEMS)[number];
const PERF_LOADS = ['s', 'm', 'l', 'xl'] as const;
export type PerfLoad = (typeof PERF_LOADS)[number];

export interface BenchConfig {
  /** Length of each closed-loop KV run and of the watch-latency run. */
  seconds: number;
  inflight: number[];
  valueBytes: number;
  watchPutsPerSecond: number;
  watchers: number[];
  /** Puts timed (one at a time) per fan-out size. */
  fanoutPuts: number;
  /** Watchers per etcd3 client (one gRPC connection and one Watch stream each). */
  watchersPerStream: number;
  perfLoads: PerfLoad[];
  pods: number;
  podInflight: number;
  listLimit: number;
  only: Set<Phase>;
  systems: SystemName[];
  /** Leave the data dirs and logs behind (their path is printed). */
  keep: boolean;
  /** The masters' --snapshot-entries; undefined: their default. */
  snapshotEntries?: number;
  /** Where the masters write CPU profiles (node --cpu-prof), when set. */
  cpuProfDir?: string;
}

export const USAGE = `Usage: npx tsx bench/store/main.ts [flags]
  --seconds N            length of each KV run and of the watch run (default 5)
  --inflight 1,16,64,256 requests in flight for puts and gets
  --value-bytes 128      value size for puts
  --watch-rate 500       puts per second (open loop) in the watch-latency run
  --watchers 1000,10000  fan-out sizes, all watchers on one member
  --fanout-puts 10       puts timed per fan-out size
  --watchers-per-stream 100  watchers sharing one client connection and Watch stream
  --perf-loads s,m       etcdctl check perf loads (s, m, l, xl; 60 s each per system)
  --pods 150000          pods created through the object API (Navarch only), then listed
  --pod-inflight 64      pod creates in flight
  --list-limit 500       page size when listing the pods
  --only puts,gets,perf,watch,fanout,pods   phases to run (default all)
  --systems etcd,navarch systems to run against (default both)
  --keep                 keep the data dirs and logs
  --snapshot-entries N   the masters' --snapshot-entries (default: theirs)
  --cpu-prof DIR         the masters write CPU profiles into DIR (node --cpu-prof)`;

function positiveInt(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`Invalid --${flag} ${JSON.stringify(text)}: expected an integer >= ${min}`);
  }
  return n;
}

function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`Invalid --${flag} ${JSON.stringify(text)}: expected a number > 0`);
  return n;
}

function intList(flag: string, text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new Error(`Invalid --${flag} ${JSON.stringify(text)}: expected comma-separated integers, like "1,16,64"`);
  return parts.map((p) => positiveInt(flag, p));
}

function choiceList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const parts = text.split(',').map((s) => s.trim());
  for (const p of parts) {
    if (!(allowed as readonly string[]).includes(p)) {
      throw new Error(`Invalid --${flag} ${JSON.stringify(text)}: ${JSON.stringify(p)} is not one of ${allowed.join(', ')}`);
    }
  }
  return [...new Set(parts as T[])];
}

/** Parses argv (without node and the script); throws an Error naming the bad flag. */
export function parseConfig(argv: string[]): BenchConfig | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      seconds: { type: 'string', default: '5' },
      inflight: { type: 'string', default: '1,16,64,256' },
      'value-bytes': { type: 'string', default: '128' },
      'watch-rate': { type: 'string', default: '500' },
      watchers: { type: 'string', default: '1000,10000' },
      'fanout-puts': { type: 'string', default: '10' },
      'watchers-per-stream': { type: 'string', default: '100' },
      'perf-loads': { type: 'string', default: 's,m' },
      pods: { type: 'string', default: '150000' },
      'pod-inflight': { type: 'string', default: '64' },
      'list-limit': { type: 'string', default: '500' },
      only: { type: 'string', default: PHASES.join(',') },
      systems: { type: 'string', default: SYSTEMS.join(',') },
      keep: { type: 'boolean', default: false },
      'snapshot-entries': { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length) throw new Error(`Unexpected argument ${JSON.stringify(positionals[0])}: every setting is a --flag (see --help)`);
  const listLimit = positiveInt('list-limit', values['list-limit']);
  if (listLimit > 10_000) throw new Error(`Invalid --list-limit ${JSON.stringify(values['list-limit'])}: the object API serves at most 10000 items a page`);
  return {
    seconds: positiveNumber('seconds', values.seconds),
    inflight: intList('inflight', values.inflight),
    valueBytes: positiveInt('value-bytes', values['value-bytes']),
    watchPutsPerSecond: positiveNumber('watch-rate', values['watch-rate']),
    watchers: intList('watchers', values.watchers),
    fanoutPuts: positiveInt('fanout-puts', values['fanout-puts']),
    watchersPerStream: positiveInt('watchers-per-stream', values['watchers-per-stream']),
    perfLoads: choiceList('perf-loads', values['perf-loads'], PERF_LOADS),
    pods: positiveInt('pods', values.pods),
    podInflight: positiveInt('pod-inflight', values['pod-inflight']),
    listLimit,
    only: new Set(choiceList('only', values.only, PHASES)),
    systems: choiceList('systems', values.systems, SYSTEMS),
    keep: values.keep,
    ...(values['snapshot-entries'] !== undefined ? { snapshotEntries: positiveInt('snapshot-entries', values['snapshot-entries']) } : {}),
    ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}),
  };
}
