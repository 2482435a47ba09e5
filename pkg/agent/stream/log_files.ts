// A container's log files: one per attempt, <logDir>/<attempt>.log, written by its pod worker.
// Which file a request reads (the current attempt, or the one before it for --previous), and
// where the last N lines of a file begin, found by reading backwards from its end.

import type { FileHandle } from 'node:fs/promises';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogAttempt {
  attempt: number;
  path: string;
}

/** The attempts that have a log file, oldest first; none when the directory does not exist. */
export async function listAttempts(logDir: string): Promise<LogAttempt[]> {
  let names: string[];
  try {
    names = await readdir(logDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const attempts: LogAttempt[] = [];
  for (const n of names) {
    const m = /^(\d+)\.log$/.exec(n);
    if (m) attempts.push({ attempt: Number(m[1]), path: join(logDir, n) });
  }
  return attempts.sort((a, b) => a.attempt - b.attempt);
}

/** The newest attempt, or with `previous` the one before it; undefined when there is none. */
export function pickAttempt(attempts: readonly LogAttempt[], previous: boolean): LogAttempt | undefined {
  return attempts[attempts.length - (previous ? 2 : 1)];
}

const NEWLINE = 0x0a;

/**
 * The offset at which the last `lines` lines of the file's first `sizeBytes` bytes begin. Reads
 * blocks backwards from the end, so the cost follows the lines asked for, not the file's size.
 * A final line without its "\n" counts as a line.
 */
export async function tailOffset(fh: FileHandle, sizeBytes: number, lines: number, blockBytes = 64 * 1024): Promise<number> {
  if (lines <= 0) return sizeBytes;
  if (sizeBytes === 0) return 0;
  const block = Buffer.alloc(blockBytes);
  // The newline that ends the last line belongs to that line, so counting starts before it.
  let end = sizeBytes;
  let seen = 0;
  let skipTrailing = true;
  while (end > 0) {
    const start = Math.max(0, end - blockBytes);
    const { bytesRead } = await fh.read(block, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (block[i] !== NEWLINE) {
        skipTrailing = false;
        continue;
      }
      if (skipTrailing) {
        skipTrailing = false;
        continue;
      }
      seen++;
      if (seen === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}
