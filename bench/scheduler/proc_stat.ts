// What /proc/<pid>/stat says of a process under test (Linux only): its CPU time and its minor page
// faults, and what one page fault costs on this machine. On the firecracker guests this benchmark
// runs on, a fault on a fresh page took about 11 µs (zeroing a page already mapped: 0.17 µs), so a
// cluster taking 15 to 20 faults per pod spent a tenth of its CPU in them: a cost set by the host
// as much as by the code.

import { readFileSync } from 'node:fs';

/** Clock ticks per second of utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

export interface ProcStat {
  /** utime + stime, all threads. */
  cpuSeconds: number;
  /** Faults served without I/O (a fresh or reclaimed anonymous page, all threads). */
  minorFaults: number;
}

/** Parses a /proc/<pid>/stat line. The command name, field 2, may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // Fields from 3 (the state) on; minflt is field 10, utime and stime 14 and 15.
  const f = text.slice(close + 2).split(' ');
  const minorFaults = Number(f[7]);
  const cpuSeconds = (Number(f[11]) + Number(f[12])) / USER_HZ;
  if (!Number.isFinite(minorFaults) || !Number.isFinite(cpuSeconds)) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  return { cpuSeconds, minorFaults };
}

/** The process's figures; zeros when it is gone (or was never started). */
export function procStat(pid: number | 'self' | undefined): ProcStat {
  if (pid === undefined) return { cpuSeconds: 0, minorFaults: 0 };
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return { cpuSeconds: 0, minorFaults: 0 };
  }
}

const PAGE_BYTES = 4096;

/**
 * Microseconds per minor page fault here: the median of `rounds` touches of a fresh buffer (64 MiB:
 * above malloc's mmap threshold, so every page is new to the process), one byte per page.
 */
export function pageFaultCostUs(rounds = 3, bytes = 64 * 1024 * 1024): number {
  const costs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const b = Buffer.allocUnsafeSlow(bytes);
    const before = procStat('self').minorFaults;
    const t0 = performance.now();
    for (let i = 0; i < bytes; i += PAGE_BYTES) b[i] = 1;
    const ms = performance.now() - t0;
    const faults = procStat('self').minorFaults - before;
    // Huge pages or a reused mapping would leave few faults to divide by: no figure then.
    if (faults >= bytes / PAGE_BYTES / 2) costs.push((ms * 1000) / faults);
  }
  costs.sort((a, b) => a - b);
  return costs.length ? costs[Math.floor(costs.length / 2)] : NaN;
}
