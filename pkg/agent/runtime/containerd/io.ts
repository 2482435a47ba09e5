// Container output through FIFOs: the shim writes a process's stdout and stderr into named pipes
// that we create; we read them and append CRI log records to the container's log file. A second
// runtime object (after an agent restart) opens the same pipes again and carries on.

import { execFile } from 'node:child_process';
import { closeSync, constants, createWriteStream, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { formatTimeNano } from '../../stream/log_record.js';

/** Longest line written as one record; longer ones become "P" records, as the CRI does. */
const MAX_LINE_BYTES = 16 * 1024;

export interface StdioPaths {
  dir: string;
  stdin?: string;
  stdout: string;
  stderr?: string;
}

export async function makeFifos(dir: string, opts: { stdin: boolean; stderr: boolean }): Promise<StdioPaths> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths: StdioPaths = { dir, stdout: join(dir, 'stdout') };
  if (opts.stdin) paths.stdin = join(dir, 'stdin');
  if (opts.stderr) paths.stderr = join(dir, 'stderr');
  const all = [paths.stdin, paths.stdout, paths.stderr].filter((p): p is string => !!p);
  // Node has no mkfifo(3); coreutils' mkfifo does it.
  await promisify(execFile)('mkfifo', ['-m', '600', ...all]).catch((e: Error) => {
    throw new Error(`Cannot create FIFOs in ${dir}: ${e.message}`, { cause: e });
  });
  return paths;
}

export async function removeFifos(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * The read end of a FIFO as a stream. Until release(), we hold a write end too, so the stream does
 * not see end-of-file before the shim opens its own; after release() it ends when the shim closes.
 */
export class FifoReader {
  readonly stream: Socket;
  private keeperFd: number | undefined;

  constructor(path: string, opts: { keepOpen: boolean }) {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    if (opts.keepOpen) this.keeperFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    this.stream = new Socket({ fd, readable: true, writable: false });
  }

  release(): void {
    if (this.keeperFd === undefined) return;
    closeSync(this.keeperFd);
    this.keeperFd = undefined;
  }

  destroy(): void {
    this.release();
    this.stream.destroy();
  }
}

/** The write end of a stdin FIFO; opening it read-write never blocks waiting for the shim. */
export function openFifoWriter(path: string): Socket {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  return new Socket({ fd, readable: false, writable: true });
}

/** Copies a container's stdout and stderr FIFOs into its log file as CRI records. */
export class LogCopier {
  /** Resolves once both pipes ended and the file is flushed (or the copier was closed). */
  readonly done: Promise<void>;
  private readonly readers: FifoReader[] = [];

  constructor(paths: StdioPaths, logPath: string, opts: { keepOpen: boolean; nowMs?: () => number }) {
    const nowMs = opts.nowMs ?? Date.now;
    const out = createWriteStream(logPath, { flags: 'a' });
    const copies: Promise<void>[] = [];
    const streams: ['stdout' | 'stderr', string | undefined][] = [
      ['stdout', paths.stdout],
      ['stderr', paths.stderr],
    ];
    try {
      for (const [name, path] of streams) {
        if (!path) continue;
        const reader = new FifoReader(path, opts);
        this.readers.push(reader);
        copies.push(copyLines(reader.stream, out, name, nowMs));
      }
    } catch (e) {
      for (const r of this.readers) r.destroy();
      out.destroy();
      throw e;
    }
    this.done = Promise.allSettled(copies).then(() => new Promise<void>((r) => out.end(r)));
  }

  /** The process exited: the pipes may now end. */
  release(): void {
    for (const r of this.readers) r.release();
  }

  /** Stops copying now (the runtime is closing or the container is removed). */
  close(): void {
    for (const r of this.readers) r.destroy();
  }
}

export async function ensureLogDir(logPath: string): Promise<void> {
  await mkdir(dirname(logPath), { recursive: true });
}

function copyLines(input: Socket, out: NodeJS.WritableStream, stream: 'stdout' | 'stderr', nowMs: () => number): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const emit = (text: Buffer, partial: boolean) => {
    const head = Buffer.from(`${formatTimeNano(nowMs())} ${stream} ${partial ? 'P' : 'F'} `, 'latin1');
    if (!out.write(Buffer.concat([head, text, NEWLINE]))) {
      input.pause();
      out.once('drain', () => input.resume());
    }
  };
  const flushPending = (tail: Buffer, partial: boolean) => {
    pending.push(tail);
    emit(Buffer.concat(pending), partial);
    pending = [];
    pendingBytes = 0;
  };
  return new Promise<void>((resolve) => {
    input.on('data', (chunk: Buffer) => {
      let at = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, at);
        const end = nl === -1 ? chunk.length : nl;
        // Cut over-long lines into pieces no larger than MAX_LINE_BYTES.
        while (pendingBytes + (end - at) > MAX_LINE_BYTES) {
          const take = MAX_LINE_BYTES - pendingBytes;
          flushPending(chunk.subarray(at, at + take), true);
          at += take;
        }
        if (nl === -1) {
          if (at < chunk.length) {
            pending.push(chunk.subarray(at));
            pendingBytes += chunk.length - at;
          }
          return;
        }
        flushPending(chunk.subarray(at, nl), false);
        at = nl + 1;
      }
    });
    const finish = () => {
      if (pendingBytes > 0) flushPending(Buffer.alloc(0), false);
      resolve();
    };
    input.once('end', finish);
    input.once('close', () => resolve());
    input.once('error', () => resolve());
  });
}

const NEWLINE = Buffer.from('\n');
