// `navctl logs [-f] [-c container] [--tail N] [--timestamps] [-p] [--since D] [--limit-bytes N] POD`:
// a container's logs through the masters (which relay them from the pod's agent), as kubectl logs.

import type { Command } from 'commander';
import { PodStreams } from '../../pkg/client/pod_streams.js';
import { parsePodArg, resolveContainer } from './pod_target.js';
import { parseDuration, withSession } from './session.js';

export interface LogsFlags {
  follow?: boolean;
  container?: string;
  tail?: string;
  timestamps?: boolean;
  previous?: boolean;
  since?: string;
  limitBytes?: string;
}

function wholeNumber(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || n < min) throw new Error(`Invalid ${flag} "${v}": expected a whole number >= ${min}`);
  return n;
}

/** The request the flags ask for (tail -1, kubectl's default, means every line). */
export function logsRequest(flags: LogsFlags): { follow: boolean; tailLines?: number; sinceSeconds?: number; timestamps: boolean; previous: boolean; limitBytes?: number } {
  const tail = wholeNumber('--tail', flags.tail, -1);
  const sinceMs = flags.since === undefined ? undefined : parseDuration('--since', flags.since);
  if (sinceMs !== undefined && sinceMs <= 0) throw new Error(`Invalid --since "${flags.since}": expected a duration greater than 0`);
  return {
    follow: flags.follow ?? false,
    tailLines: tail === undefined || tail < 0 ? undefined : tail,
    sinceSeconds: sinceMs === undefined ? undefined : Math.ceil(sinceMs / 1000),
    timestamps: flags.timestamps ?? false,
    previous: flags.previous ?? false,
    limitBytes: wholeNumber('--limit-bytes', flags.limitBytes, 1),
  };
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print a container's logs (the pod's default container unless -c names one)")
    .argument('<pod>', 'POD or pod/POD')
    .option('-f, --follow', 'keep streaming new lines until the container stops')
    .option('-c, --container <name>', 'the container to read')
    .option('--tail <lines>', 'only the last N lines (-1: all)', '-1')
    .option('--timestamps', 'prefix each line with its time (RFC3339Nano)')
    .option('-p, --previous', "the previous run's logs (the last terminated container)")
    .option('--since <duration>', 'only lines newer than this, e.g. 10s, 5m, 1h')
    .option('--limit-bytes <bytes>', 'stop after this many bytes')
    .action((podArg: string, flags: LogsFlags) =>
      withSession(program, async (s) => {
        const req = logsRequest(flags);
        const name = parsePodArg(podArg);
        const container = await resolveContainer(s, name, flags.container);
        const streams = new PodStreams(s.config.endpoints);
        const ac = new AbortController();
        // Ctrl-C ends a follow quietly, as kubectl does.
        const onSigint = (): void => ac.abort();
        process.once('SIGINT', onSigint);
        try {
          await streams.logs({ namespace: s.namespace, name, container, ...req }, process.stdout, ac.signal);
        } finally {
          process.off('SIGINT', onSigint);
          streams.close();
        }
      }),
    );
}
