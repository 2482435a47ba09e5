// Resident memory of the members under test, from /proc (Linux only).

import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS of a process in MiB; NaN when the process is gone. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * The pid of the process whose command line holds every one of parts (etcd_peer.ts does not
 * keep its pids; each member's data dir is unique to this run, so it identifies the member).
 */
export function pidByCommandLine(parts: string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (parts.every((p) => args.includes(p))) return Number(entry);
  }
  return undefined;
}
