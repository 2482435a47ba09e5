// The agent's Exec stream: the first message names the container and command, later ones carry
// stdin and terminal resizes; the command's output goes back as it comes, and its exit code last.
// Backpressure both ways: a slow client pauses the command's output pipes, a slow command pauses
// reading the client's stdin. The client going away kills the command.

import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ExecInput, ExecOptions, ExecOutput } from '../../../gen/navarch/agent/v1/streams.js';
import type { Clock } from '../../../raft/node/ports.js';
import { ApiError } from '../../apiserver/api_error.js';
import { toGrpcError } from '../../apiserver/grpc_adapter.js';
import { checkDecoded } from '../../apiserver/pod_streams/lenient_decoding.js';
import type { ContainerRuntime, ExecSession } from '../runtime/runtime.js';
import type { ContainerLookup } from './lookup.js';

export interface ExecDeps {
  runtime: ContainerRuntime;
  lookup: ContainerLookup;
  clock: Clock;
  /** After the command exits, how long to wait for the rest of its output before sending the exit code. @default 2000 */
  outputDrainMs?: number;
  /** How long a new call may take to send its options before it is refused. @default 30000 */
  optionsTimeoutMs?: number;
  /** Counts the output pipes paused for a slow client. */
  stats?: { execPipesWaitingOnClient: number };
  /** The most sent in one message. @default 65536 */
  chunkBytes?: number;
}

export type ExecCall = ServerDuplexStream<ExecInput, ExecOutput>;

/** The first message, which must carry the options; a caller that sends none within timeoutMs is refused. */
function firstMessage(call: ExecCall, clock: Clock, timeoutMs: number): Promise<ExecInput | undefined> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      cleanup();
      reject(new ApiError('Invalid', `Cannot start exec: no options arrived within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clock.clearTimeout(timer);
      call.off('data', onData);
      call.off('end', onEnd);
      call.off('error', onError);
    };
    const onData = (m: ExecInput): void => {
      cleanup();
      call.pause();
      resolve(m);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    call.on('data', onData);
    call.on('end', onEnd);
    call.on('error', onError);
  });
}

export function checkExecOptions(o: ExecOptions | undefined): ExecOptions {
  if (!o) throw new ApiError('Invalid', 'Cannot start exec: the first message must carry the options (container and command)');
  if (o.argv.length === 0 || o.argv[0] === '') throw new ApiError('Invalid', `Cannot exec in pod "${o.name}": argv: Required value: a command to run is required`, { kind: 'pods', name: o.name });
  return o;
}

/** Writes one message, then waits (for 'drain') if the client is behind. */
function writeThrottled(call: ExecCall, m: ExecOutput, pause: () => void, resume: () => void): void {
  if (!call.write(m)) {
    pause();
    call.once('drain', resume);
  }
}

export async function serveExec(deps: ExecDeps, call: ExecCall): Promise<void> {
  const chunkBytes = deps.chunkBytes ?? 64 * 1024;
  let session: ExecSession | undefined;
  let gone = false;
  const onGone = (): void => {
    gone = true;
    void session?.kill().catch(() => {});
  };
  call.on('cancelled', onGone);
  call.on('error', () => {});
  try {
    const first = await firstMessage(call, deps.clock, deps.optionsTimeoutMs ?? 30_000);
    checkDecoded(first);
    const o = checkExecOptions(first?.options);
    const loc = await deps.lookup(o);
    if (!loc) throw new ApiError('NotFound', `container "${o.container}" in pod "${o.name}" not found on this node`, { kind: 'pods', name: o.name });
    const state = loc.containerId === undefined ? undefined : await deps.runtime.containerStatus(loc.containerId);
    if (!loc.containerId || state?.phase !== 'running') throw new ApiError('Invalid', `container "${o.container}" in pod "${o.name}" is not running`, { kind: 'pods', name: o.name });
    session = await deps.runtime.exec(loc.containerId, { argv: o.argv, tty: o.tty, stdin: o.stdin });
    if (gone) {
      await session.kill().catch(() => {});
      return;
    }
    const s = session;

    // Client to command.
    call.on('data', (m: ExecInput) => {
      try {
        checkDecoded(m);
      } catch (err) {
        onGone();
        call.emit('error', toGrpcError(err));
        return;
      }
      if (m.stdin !== undefined && s.stdin) {
        if (!s.stdin.write(m.stdin)) {
          call.pause();
          s.stdin.once('drain', () => call.resume());
        }
      } else if (m.resize) {
        s.resize(m.resize.cols, m.resize.rows).catch(() => {});
      }
    });
    call.on('end', () => s.stdin?.end());
    s.stdin?.on('error', () => {});
    call.resume();

    // Command to client. `moved` counts chunks and `waiting` the pipes paused for a slow client,
    // so the wait after exit below can tell output still on its way from a pipe held open idle.
    let moved = 0;
    let waiting = 0;
    const pipe = (from: NodeJS.ReadableStream | undefined, key: 'stdout' | 'stderr'): Promise<void> => {
      if (!from) return Promise.resolve();
      return new Promise<void>((resolve) => {
        from.on('data', (chunk: Buffer | string) => {
          const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          moved++;
          for (let i = 0; i < b.length; i += chunkBytes) {
            writeThrottled(
              call,
              { [key]: b.subarray(i, i + chunkBytes) },
              () => {
                if (!from.isPaused()) {
                  waiting++;
                  if (deps.stats) deps.stats.execPipesWaitingOnClient++;
                }
                from.pause();
              },
              () => {
                if (from.isPaused()) {
                  waiting--;
                  if (deps.stats) deps.stats.execPipesWaitingOnClient--;
                }
                from.resume();
              },
            );
          }
        });
        from.on('end', resolve);
        from.on('close', resolve);
        from.on('error', () => resolve());
      });
    };
    const outputs = Promise.all([pipe(s.stdout, 'stdout'), pipe(s.stderr, 'stderr')]);
    const exitCode = await s.exit;
    // Output written just before exit may still be in the pipes, or wait for a slow client: all of
    // it goes out first. Only pipes that stay open with nothing moving (a background child holding
    // them) are given up on after outputDrainMs.
    const drainMs = deps.outputDrainMs ?? 2000;
    await new Promise<void>((resolve) => {
      let seen = moved;
      let timer = deps.clock.setTimeout(check, drainMs);
      function check(): void {
        if (moved === seen && waiting === 0) return resolve();
        seen = moved;
        timer = deps.clock.setTimeout(check, drainMs);
      }
      void outputs.then(() => {
        deps.clock.clearTimeout(timer);
        resolve();
      });
    });
    if (gone) return;
    call.write({ exitCode });
    call.end();
  } catch (err) {
    if (!gone) call.emit('error', toGrpcError(err));
  } finally {
    call.off('cancelled', onGone);
  }
}
