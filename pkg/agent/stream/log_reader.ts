// Reads one attempt's log file as the text a user sees: from the start or the last N lines, only
// records newer than a cutoff, with or without their times, up to a byte limit, and with `follow`
// on until the container stops or a newer attempt's file appears. The consumer pulls chunks, so
// a slow client slows the reading down instead of filling memory.

import { open } from 'node:fs/promises';
import type { Clock } from '../../../raft/node/ports.js';
import { tailOffset } from './log_files.js';
import { parseRecord, renderRecord } from './log_record.js';

export interface LogReadOptions {
  path: string;
  clock: Clock;
  tailLines?: number;
  /** Only records at or after this time (ms since the epoch). */
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
  follow?: boolean;
  /**
   * With follow: asked each time the reader has caught up; true ends the stream once the rest of
   * the file is read (the container stopped, or its next attempt has started writing elsewhere).
   */
  finished?: () => Promise<boolean>;
  /** How often a caught-up follower looks for more. @default 250 */
  pollIntervalMs?: number;
  /** Bytes read from the file at a time, and the most a yielded chunk holds. @default 65536 */
  chunkBytes?: number;
  /** A line longer than this without its "\n" is passed on as it is. @default 1048576 */
  maxLineBytes?: number;
  signal?: AbortSignal;
}

const NEWLINE = 0x0a;

/** Yields the log's text in chunks of at most chunkBytes; ends at EOF (or when a follower is finished). */
export async function* readLog(o: LogReadOptions): AsyncGenerator<Buffer> {
  const chunkBytes = o.chunkBytes ?? 64 * 1024;
  const maxLineBytes = o.maxLineBytes ?? 1024 * 1024;
  const pollIntervalMs = o.pollIntervalMs ?? 250;
  let remaining = o.limitBytes ?? Infinity;
  const fh = await open(o.path, 'r');
  try {
    const size = (await fh.stat()).size;
    let position = o.tailLines === undefined ? 0 : await tailOffset(fh, size, o.tailLines);
    const buf = Buffer.alloc(chunkBytes);
    let pending: Buffer = Buffer.alloc(0);
    let out: Buffer[] = [];
    let outBytes = 0;
    const emit = (line: Buffer): void => {
      const r = parseRecord(line);
      // A line that is not a record (a foreign writer) is passed on rather than lost.
      const text = r === undefined ? Buffer.concat([line, Buffer.from('\n')]) : (o.sinceMs !== undefined && r.timeMs < o.sinceMs) ? undefined : renderRecord(r, o.timestamps ?? false);
      if (text === undefined || remaining <= 0) return;
      const cut = text.length > remaining ? text.subarray(0, remaining) : text;
      remaining -= cut.length;
      out.push(cut);
      outBytes += cut.length;
    };
    const take = (): Buffer => {
      const b = Buffer.concat(out, outBytes);
      out = [];
      outBytes = 0;
      return b;
    };
    let caughtUpFinished = false;
    for (;;) {
      if (o.signal?.aborted) return;
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, position);
      if (bytesRead > 0) {
        position += bytesRead;
        let data = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        let start = 0;
        for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
          emit(data.subarray(start, nl));
          start = nl + 1;
        }
        data = data.subarray(start);
        if (data.length > maxLineBytes) {
          emit(data);
          data = Buffer.alloc(0);
        }
        pending = data;
        if (outBytes > 0) {
          const b = take();
          for (let i = 0; i < b.length; i += chunkBytes) yield b.subarray(i, i + chunkBytes);
        }
        if (remaining <= 0) return;
        continue;
      }
      // At the end of what is written so far.
      if (!o.follow || caughtUpFinished) {
        // A last line without "\n" (the writer stopped mid-line) is still the container's output.
        if (pending.length) emit(pending);
        if (outBytes > 0) yield take();
        return;
      }
      // Read once more after learning it is finished: lines written just before it stopped count.
      if (o.finished && (await o.finished())) {
        caughtUpFinished = true;
        continue;
      }
      await sleep(o.clock, pollIntervalMs, o.signal);
    }
  } finally {
    await fh.close();
  }
}

function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}
