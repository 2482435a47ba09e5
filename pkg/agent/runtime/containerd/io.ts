// Container output through FIFOs: the shim writes a process's stdout and stderr into named pipes
// that we create; we read them and append CRI log records to the container's log file. A second
// runtime object (after an agent restart) opens the same pipes again and carries on.

import { execFile } from 'node:child_process';
import { closeSync, constants, createWriteStream, openSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
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

/**
 * FIFOs made ahead of need, in batches: Node cannot mkfifo(3) itself, and one mkfifo process per
 * container costs about as much as a batch. Taking one is a rename (the pool sits in the same
 * directory tree as the containers' FIFOs, so on the same filesystem).
 */
export class FifoPool {
  private readonly spare: string[] = [];
  private filling: Promise<void> | undefined;
  private seq = 0;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly batchSize = 16,
  ) {}

  /** Moves a fresh FIFO to `dest`. */
  async take(dest: string): Promise<void> {
    // Leftovers of an earlier process are dropped once, so names never collide.
    this.ready ??= rm(this.dir, { recursive: true, force: true }).then(() => mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined));
    await this.ready;
    let src = this.spare.pop();
    while (src === undefined) {
      await this.fill();
      src = this.spare.pop();
    }
    await rename(src, dest);
    if (this.spare.length < this.batchSize / 2) this.fill().catch(() => undefined);
  }

  private fill(): Promise<void> {
    this.filling ??= (async () => {
      const names = Array.from({ length: this.batchSize }, () => join(this.dir, `fifo-${this.seq++}`));
      await promisify(execFile)('mkfifo', ['-m', '600', ...names]).catch((e: Error) => {
        throw new Error(`Cannot create FIFOs in ${this.dir}: ${e.message}`, { cause: e });
      });
      this.spare.push(...names);
    })().finally(() => (this.filling = undefined));
    return this.filling;
  }
}

export async function makeFifos(dir: string, opts: { stdin: boolean; stderr: boolean }, pool: FifoPool): Promise<StdioPaths> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths: StdioPaths = { dir, stdout: join(dir, 'stdout') };
  if (opts.stdin) paths.stdin = join(dir, 'stdin');
  if (opts.stderr) paths.stderr = join(dir, 'stderr');
  for (const p of [paths.stdin, paths.stdout, paths.stderr]) if (p) await pool.take(p);
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
