// Node-wide CPU and memory from /proc, as the kubelet's node summary reports them: CPU as cumulative
// busy time (every column of the "cpu" line but idle and iowait), memory working set as
// MemTotal - MemAvailable.

import { readFileSync } from 'node:fs';

/** /proc/stat counts in USER_HZ ticks, 100 per second on every Linux architecture Node runs on. */
const NANOS_PER_TICK = 10_000_000;

/** Cumulative non-idle CPU time of all CPUs, in nanoseconds, from /proc/stat's text. */
export function parseProcStatCpuNanos(text: string): number {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error('Cannot read /proc/stat: no aggregate "cpu" line');
  const cols = line.trim().split(/\s+/).slice(1).map(Number);
  if (cols.length < 4 || cols.some((n) => !Number.isFinite(n))) throw new Error(`Cannot read /proc/stat: bad "cpu" line: ${line}`);
  // user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice].
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = cols;
  return (user + nice + system + irq + softirq + steal) * NANOS_PER_TICK;
}

export interface NodeMemory {
  totalBytes: number;
  workingSetBytes: number;
}

/** MemTotal and MemTotal - MemAvailable from /proc/meminfo's text (values there are in kB). */
export function parseMeminfo(text: string): NodeMemory {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    if (!m) throw new Error(`Cannot read /proc/meminfo: no ${name} line`);
    return Number(m[1]) * 1024;
  };
  const totalBytes = field('MemTotal');
  return { totalBytes, workingSetBytes: Math.max(0, totalBytes - field('MemAvailable')) };
}

export interface NodeProc {
  cpuNanos(): number;
  memory(): NodeMemory;
}

/** Reads this machine's /proc (tests pass fixed text instead). */
export const hostProc: NodeProc = {
  cpuNanos: () => parseProcStatCpuNanos(readFileSync('/proc/stat', 'utf8')),
  memory: () => parseMeminfo(readFileSync('/proc/meminfo', 'utf8')),
};
