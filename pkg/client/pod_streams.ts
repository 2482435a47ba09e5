// The client side of kubectl logs and kubectl exec: navarch.apiserver.v1.PodStreams on the first
// master that answers. Output goes to the caller's writable streams at the pace they take it (the
// call is paused while one is full), and exec returns the command's exit code.

import { credentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { ExecOutput, LogsChunk, TerminalSize } from '../../gen/navarch/agent/v1/streams.js';
import { PodStreamsClient, type PodExecInput } from '../../gen/navarch/apiserver/v1/pod_streams.js';
import { ApiError } from '../apiserver/api_error.js';
import { checkEndpoints } from './endpoints.js';
import { classify } from './errors.js';

export interface PodLogsOptions {
  namespace: string;
  name: string;
  /** "": the pod's only container. */
  container?: string;
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
  previous?: boolean;
  limitBytes?: number;
}

export interface PodExecOptions {
  namespace: string;
  name: string;
  /** "": the pod's only container. */
  container?: string;
  argv: string[];
  tty?: boolean;
}

export interface ExecIo {
  /** Passed to the command when given; its end closes the command's stdin. */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  /** Without a TTY; with one the command's stderr arrives on stdout. */
  stderr: NodeJS.WritableStream;
  /** With a TTY: the terminal's size now and each time it changes; returns the unsubscribe function. */
  terminalSize?: { initial: TerminalSize; subscribe(f: (size: TerminalSize) => void): () => void };
  signal?: AbortSignal;
}

const CHANNEL_OPTIONS = { 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 };

/** Writes, then pauses `source` until `to` drains if it is full. */
function writeOrPause(to: NodeJS.WritableStream, data: Buffer, source: { pause(): unknown; resume(): unknown }): void {
  if (!to.write(data)) {
    source.pause();
    to.once('drain', () => source.resume());
  }
}

export class PodStreams {
  private readonly endpoints: string[];
  private readonly clients = new Map<string, PodStreamsClient>();

  constructor(
    endpoints: readonly string[],
    private readonly connectTimeoutMs = 5000,
  ) {
    this.endpoints = checkEndpoints(endpoints);
  }

  /** The first master whose connection comes up; a stream is never sent to one that is down. */
  private async connect(): Promise<{ client: PodStreamsClient; endpoint: string }> {
    const failures: string[] = [];
    for (const endpoint of this.endpoints) {
      let client = this.clients.get(endpoint);
      if (!client) {
        client = new PodStreamsClient(endpoint, credentials.createInsecure(), CHANNEL_OPTIONS);
        this.clients.set(endpoint, client);
      }
      const c = client;
      const err = await new Promise<Error | undefined>((resolve) => c.waitForReady(Date.now() + this.connectTimeoutMs / this.endpoints.length, resolve));
      if (!err) return { client: c, endpoint };
      failures.push(`${endpoint}: ${err.message}`);
    }
    throw new ApiError('Unavailable', `Cannot reach master ${failures.join('; ')}`, { retryAfterSeconds: 1 });
  }

  /** Streams the logs into `out`; resolves when the server ends the stream (never, for a follow, until `signal`). */
  async logs(o: PodLogsOptions, out: NodeJS.WritableStream, signal?: AbortSignal): Promise<void> {
    const { client, endpoint } = await this.connect();
    const call = client.podLogs({
      namespace: o.namespace,
      name: o.name,
      container: o.container ?? '',
      follow: o.follow ?? false,
      tailLines: o.tailLines,
      sinceSeconds: o.sinceSeconds,
      timestamps: o.timestamps ?? false,
      previous: o.previous ?? false,
      limitBytes: o.limitBytes,
    });
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort);
    try {
      await new Promise<void>((resolve, reject) => {
        call.on('data', (c: LogsChunk) => writeOrPause(out, c.data, call));
        call.on('end', resolve);
        call.on('error', (e: ServiceError) => (signal?.aborted ? resolve() : reject(classify(e, endpoint).error)));
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Runs the command; resolves with its exit code once its output has all been written. */
  async exec(o: PodExecOptions, io: ExecIo): Promise<number> {
    const { client, endpoint } = await this.connect();
    const call: ClientDuplexStream<PodExecInput, ExecOutput> = client.podExec();
    const cleanups: (() => void)[] = [];
    const onAbort = (): void => call.cancel();
    io.signal?.addEventListener('abort', onAbort);
    cleanups.push(() => io.signal?.removeEventListener('abort', onAbort));
    try {
      return await new Promise<number>((resolve, reject) => {
        let exitCode: number | undefined;
        call.on('data', (m: ExecOutput) => {
          if (m.stdout) writeOrPause(io.stdout, m.stdout, call);
          else if (m.stderr) writeOrPause(io.stderr, m.stderr, call);
          else if (m.exitCode !== undefined) exitCode = m.exitCode;
        });
        call.on('end', () => (exitCode === undefined ? reject(new ApiError('Internal', 'The exec stream ended without the exit code of the command')) : resolve(exitCode)));
        call.on('error', (e: ServiceError) => reject(io.signal?.aborted ? new Error('Exec cancelled') : classify(e, endpoint).error));
        call.write({ options: { namespace: o.namespace, name: o.name, container: o.container ?? '', argv: o.argv, stdin: io.stdin !== undefined, tty: o.tty ?? false } });
        if (io.terminalSize) {
          call.write({ resize: io.terminalSize.initial });
          cleanups.push(io.terminalSize.subscribe((size) => call.write({ resize: size })));
        }
        const stdin = io.stdin;
        if (stdin) {
          const onData = (d: Buffer | string): void => {
            if (!call.write({ stdin: typeof d === 'string' ? Buffer.from(d) : d })) {
              stdin.pause();
              call.once('drain', () => stdin.resume());
            }
          };
          const onEnd = (): void => void call.end();
          stdin.on('data', onData);
          stdin.on('end', onEnd);
          cleanups.push(() => {
            stdin.off('data', onData);
            stdin.off('end', onEnd);
            stdin.pause();
          });
        } else {
          call.end();
        }
      });
    } finally {
      for (const c of cleanups) c();
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
