import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageFaultCostUs, parseProcStat, procStat } from './proc_stat.js';

// A real line's shape: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
const line = (comm: string) => `4242 (${comm}) S 1 4242 4242 0 -1 4194560 123456 0 7 0 250 125 0 0 20 0 11 0 1000 5000000 2000 18446744073709551615\n`;

describe('parseProcStat', () => {
  it('reads the minor faults and user plus system CPU time', () => {
    assert.deepEqual(parseProcStat(line('node')), { minorFaults: 123456, cpuSeconds: 3.75 });
  });

  it('is not misled by a command name with spaces and parentheses', () => {
    assert.deepEqual(parseProcStat(line('a) S 1 2 (b')), { minorFaults: 123456, cpuSeconds: 3.75 });
  });

  it('refuses text that is not a stat line, quoting it', () => {
    assert.throws(() => parseProcStat('VmRSS: 100 kB'), /not a \/proc\/<pid>\/stat line: "VmRSS: 100 kB"/);
  });

  it('gives zeros for a process that is gone or never started', () => {
    assert.deepEqual(procStat(undefined), { cpuSeconds: 0, minorFaults: 0 });
    assert.deepEqual(procStat(2 ** 22 + 1), { cpuSeconds: 0, minorFaults: 0 });
  });
});

describe('pageFaultCostUs', () => {
  it('counts this process faulting in a fresh buffer and prices each fault', () => {
    const before = procStat('self').minorFaults;
    const us = pageFaultCostUs(1, 16 * 1024 * 1024);
    // 4,096 pages new to the process (malloc maps a buffer this large afresh).
    assert.ok(procStat('self').minorFaults - before >= 2048, 'the buffer was faulted in page by page');
    assert.ok(us > 0 && us < 10_000, `a plausible cost per fault: ${us} µs`);
  });
});
