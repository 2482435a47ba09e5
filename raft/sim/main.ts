// The simulator's runner: npx tsx raft/sim/main.ts --seeds N | --seed S [--verbose]

import { runSeed } from './cluster.js';

interface Args {
  first: number;
  count: number;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { first: 1, count: 20, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid value "${v}" for ${a}: expected a positive integer`);
      return n;
    };
    if (a === '--seeds') args.count = num();
    else if (a === '--seed') {
      args.first = num();
      args.count = 1;
    } else if (a === '--first-seed') args.first = num();
    else if (a === '--verbose') args.verbose = true;
    else if (a === '--') continue;
    else throw new Error(`Unknown argument "${a}": expected --seeds N, --seed S, --first-seed S or --verbose`);
  }
  return args;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const t0 = performance.now();
  const failed: number[] = [];
  for (let seed = args.first; seed < args.first + args.count; seed++) {
    const r = await runSeed(seed, { verbose: args.verbose });
    if (args.verbose || args.count === 1) console.log(r.summary);
    if (!r.ok) {
      failed.push(seed);
      console.log(`seed ${seed} failed: ${r.failure}`);
      console.log(`  ${r.summary}`);
      if (!args.verbose) console.log(`  trace (last ${r.trace.length} lines):\n${r.trace.map((l) => `    ${l}`).join('\n')}`);
      console.log(`  replay: npx tsx raft/sim/main.ts --seed ${seed} --verbose`);
    }
  }
  const wallS = (performance.now() - t0) / 1000;
  console.log(`${args.count} seeds run (${args.first}..${args.first + args.count - 1}), ${failed.length} failed${failed.length ? `: ${failed.join(', ')}` : ''}, wall time ${wallS.toFixed(1)} s`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
