// `etcdctl check perf` (Debian etcd-client, API v3) against a cluster, and the figures it prints.

import { spawn } from 'node:child_process';
import type { PerfLoad } from './config.js';

export interface CheckPerfResult {
  load: PerfLoad;
  passed: boolean;
  writesPerSecond: number;
  slowestS: number;
  stddevS: number;
  /** The PASS/FAIL lines as etcdctl printed them. */
  verdicts: string[];
}

/** Reads etcdctl's verdict lines ("PASS: Throughput is 150 writes/s", ..., "PASS" or "FAIL"). */
export function parseCheckPerf(load: PerfLoad, output: string): CheckPerfResult {
  // The progress bar redraws with carriage returns; verdicts are whole lines.
  const lines = output.split(/[\r\n]+/).map((l) => l.trim());
  // From the first verdict on, every line (a FAIL can be followed by the errors that caused it).
  const first = lines.findIndex((l) => /^(PASS|FAIL)\b/.test(l));
  const verdicts = first < 0 ? [] : lines.slice(first).filter((l) => l !== '');
  if (verdicts.length === 0) throw new Error(`etcdctl check perf --load=${load} printed no PASS/FAIL verdict: ${output.trim().slice(-400) || '(no output)'}`);
  const num = (re: RegExp): number => {
    for (const l of verdicts) {
      const m = re.exec(l);
      if (m) return Number(m[1]);
    }
    return NaN;
  };
  return {
    load,
    passed: verdicts[verdicts.length - 1] === 'PASS',
    writesPerSecond: num(/Throughput.*?([\d.]+) writes\/s/),
    slowestS: num(/Slowest request.*?([\d.]+)s/),
    stddevS: num(/Stddev.*?([\d.]+)s/),
    verdicts,
  };
}

const TIMEOUT_MS = 180_000;

export function runCheckPerf(endpoints: string[], load: PerfLoad): Promise<CheckPerfResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('etcdctl', [`--endpoints=${endpoints.join(',')}`, 'check', 'perf', `--load=${load}`], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), TIMEOUT_MS);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run etcdctl (install Debian etcd-client): ${e.message}`));
    });
    p.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseCheckPerf(load, out));
      } catch (e) {
        reject(e);
      }
    });
  });
}
