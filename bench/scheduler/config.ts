// make bench-scheduler's flags: parsed and checked up front so a typo fails before any cluster starts.

import { parseArgs } from 'node:util';

export const CASES = ['basic', 'antiaffinity', 'spread', 'fill', 'failover'] as const;
export type Case = (typeof CASES)[number];

export interface BenchConfig {
  nodes: number;
  /** SchedulingBasic sizes, one run each. */
  pods: number[];
  /** Pods created and bound before each SchedulingBasic size, not measured (scheduler_perf's initPods); one per size. */
  initPods: number[];
  antiAffinityPods: number;
  spreadPods: number;
  /** Total pods in the cluster after the fill (the earlier cases' pods count). */
  fillPods: number;
  failoverPods: number;
  kills: number;
  /** Pod creates per second during the failover run (open loop, so the run lasts through the kills). */
  failoverRate: number;
  /** Creates in flight in the throughput cases. */
  inflight: number;
  only: Set<Case>;
  /** Extra `navarch master` flags (e.g. lease timings), space-separated. */
  masterArgs: string[];
  /** Extra `navarch hollow` flags, space-separated. */
  hollowArgs: string[];
  /** Extra Node.js flags for the masters and the hollow process (V8 experiments), space-separated. */
  nodeArgs: string[];
  keep: boolean;
  json: boolean;
  /** Where the masters and the hollow process write CPU profiles (node --cpu-prof), when set. */
  cpuProfDir: string | undefined;
}

export const USAGE = `Usage: npx tsx bench/scheduler/main.ts [flags]   (make bench-scheduler ARGS="...")
  --nodes 5000              hollow nodes (one navarch hollow process)
  --pods 10000,50000        SchedulingBasic sizes (pods/s from first create to last bound)
  --init-pods 1000,5000     pods created and bound before each of those sizes, not measured, as scheduler_perf's
                            initPods (default a tenth of each size: 1000 and 5000 as in its 5000Nodes cases)
  --anti-affinity-pods 2000 pods with required anti-affinity to each other per hostname (at most one per node)
  --spread-pods 10000       pods with a topology spread constraint (maxSkew 1 over hostnames, DoNotSchedule)
  --fill-pods 150000        fill the cluster to this many pods, then each master's RSS and the time to list them all
  --failover-pods 10000     pods created during the failover run
  --kills 5                 kill -9 of the scheduler's lease holder during the failover run
  --failover-rate 25        pod creates per second during the failover run (slow enough to last through the kills and the restarted masters' warm-up)
  --inflight 128            pod creates in flight in the throughput cases
  --only basic,antiaffinity,spread,fill,failover   cases to run (default all)
  --master-args="..."       extra navarch master flags (note the =)
  --hollow-args="..."       extra navarch hollow flags (e.g. "--max-inflight-status-writes 64"; note the =)
  --node-args="..."         extra Node.js flags for the masters and the hollow process (e.g. "--min-semi-space-size=64")
  --keep                    keep the data dirs and logs
  --json                    also print the results as JSON
  --cpu-prof DIR            the masters and the hollow process write CPU profiles into DIR (stopped with SIGTERM)`;

function int(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) throw new Error(`Invalid --${flag} ${JSON.stringify(text)}: expected an integer >= ${min}`);
  return n;
}

export function parseConfig(argv: string[]): BenchConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean' },
      nodes: { type: 'string', default: '5000' },
      pods: { type: 'string', default: '10000,50000' },
      'init-pods': { type: 'string' },
      'anti-affinity-pods': { type: 'string', default: '2000' },
      'spread-pods': { type: 'string', default: '10000' },
      'fill-pods': { type: 'string', default: '150000' },
      'failover-pods': { type: 'string', default: '10000' },
      kills: { type: 'string', default: '5' },
      'failover-rate': { type: 'string', default: '25' },
      inflight: { type: 'string', default: '128' },
      only: { type: 'string', default: CASES.join(',') },
      'master-args': { type: 'string', default: '' },
      'hollow-args': { type: 'string', default: '' },
      'node-args': { type: 'string', default: '' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  if (values.help) return 'help';
  const only = new Set<Case>();
  for (const c of values.only.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(CASES as readonly string[]).includes(c)) throw new Error(`Invalid --only "${c}": expected some of ${CASES.join(', ')}`);
    only.add(c as Case);
  }
  const pods = values.pods.split(',').map((p) => int('pods', p, 1));
  const tenth = pods.map((p) => Math.floor(p / 10));
  const initPods = values['init-pods'] === undefined ? tenth : values['init-pods'].split(',').map((p) => int('init-pods', p, 0));
  if (initPods.length !== pods.length) {
    throw new Error(`Invalid --init-pods ${JSON.stringify(values['init-pods'])}: expected one count per --pods size (${pods.length}), e.g. ${tenth.join(',')}`);
  }
  const cfg: BenchConfig = {
    nodes: int('nodes', values.nodes, 1),
    pods,
    initPods,
    antiAffinityPods: int('anti-affinity-pods', values['anti-affinity-pods'], 1),
    spreadPods: int('spread-pods', values['spread-pods'], 1),
    fillPods: int('fill-pods', values['fill-pods'], 1),
    failoverPods: int('failover-pods', values['failover-pods'], 1),
    kills: int('kills', values.kills, 0),
    failoverRate: int('failover-rate', values['failover-rate'], 1),
    inflight: int('inflight', values.inflight, 1),
    only,
    masterArgs: values['master-args'].split(' ').filter(Boolean),
    hollowArgs: values['hollow-args'].split(' ').filter(Boolean),
    nodeArgs: values['node-args'].split(' ').filter(Boolean),
    keep: values.keep,
    json: values.json,
    cpuProfDir: values['cpu-prof'],
  };
  if (only.has('antiaffinity') && cfg.antiAffinityPods > cfg.nodes) {
    throw new Error(`--anti-affinity-pods ${cfg.antiAffinityPods} cannot all fit: at most one per node, and there are ${cfg.nodes} nodes`);
  }
  return cfg;
}
