// navarch.agent.v1.ContainerStreams: the agent's logs and exec endpoints (the kubelet's
// containerLogs and exec), which the API server proxies. Add it to the agent's gRPC server with
// addContainerStreams, or start one of its own with startStreamServer.

import { Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { ContainerStreamsService, type ContainerStreamsServer, type LogsChunk, type LogsRequest } from '../../../gen/navarch/agent/v1/streams.js';
import type { Clock } from '../../../raft/node/ports.js';
import { ApiError } from '../../apiserver/api_error.js';
import { toGrpcError } from '../../apiserver/grpc_adapter.js';
import { checkDecoded, lenientService } from '../../apiserver/pod_streams/lenient_decoding.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { serveExec } from './exec_handler.js';
import { openLogs } from './logs_handler.js';
import type { ContainerLookup } from './lookup.js';

/** What the server is doing, for metrics and tests; the server updates the object it is given. */
export interface StreamStats {
  openStreams: number;
  /** Log streams waiting for their client to take what was sent (backpressure at work). */
  logStreamsWaitingOnClient: number;
  logBytesSent: number;
  /** Exec output pipes paused until their client takes what was sent. */
  execPipesWaitingOnClient: number;
}

export const newStreamStats = (): StreamStats => ({ openStreams: 0, logStreamsWaitingOnClient: 0, logBytesSent: 0, execPipesWaitingOnClient: 0 });

export interface StreamServerOptions {
  runtime: ContainerRuntime;
  lookup: ContainerLookup;
  clock: Clock;
  /** Streams served at once; more are refused (Unavailable) rather than queued. @default 64 */
  maxStreams?: number;
  /** How often a log follower that has caught up looks for more. @default 250 */
  pollIntervalMs?: number;
  /** After an exec'd command exits, how long its remaining output may take. @default 2000 */
  outputDrainMs?: number;
  /** How long a new exec call may take to send its options. @default 30000 */
  execOptionsTimeoutMs?: number;
  stats?: StreamStats;
  /** Adds more services (NodeStats) to the same server before it listens. */
  register?: (server: Server) => void;
}

/** Waits until the client has taken what was written, or the call is gone. */
function drained(call: ServerWritableStream<LogsRequest, LogsChunk>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done);
  });
}

export function containerStreamsServer(o: StreamServerOptions): ContainerStreamsServer {
  const maxStreams = o.maxStreams ?? 64;
  const stats = o.stats ?? newStreamStats();
  const admit = (): void => {
    if (stats.openStreams >= maxStreams) throw new ApiError('Unavailable', `Cannot open another stream: this agent already serves ${maxStreams}`, { retryAfterSeconds: 1 });
    stats.openStreams++;
  };
  return {
    logs: (call) => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      call.on('close', () => ac.abort());
      let admitted = false;
      void (async () => {
        try {
          admit();
          admitted = true;
          const r = call.request;
          checkDecoded(r);
          const chunks = await openLogs({ runtime: o.runtime, lookup: o.lookup, clock: o.clock, pollIntervalMs: o.pollIntervalMs }, { ...r }, ac.signal);
          for await (const data of chunks) {
            if (ac.signal.aborted) break;
            stats.logBytesSent += data.length;
            if (!call.write({ data })) {
              stats.logStreamsWaitingOnClient++;
              await drained(call, ac.signal);
              stats.logStreamsWaitingOnClient--;
            }
          }
          if (!ac.signal.aborted) call.end();
        } catch (err) {
          if (!ac.signal.aborted) call.emit('error', toGrpcError(err));
        } finally {
          if (admitted) stats.openStreams--;
        }
      })();
    },
    exec: (call) => {
      void (async () => {
        try {
          admit();
        } catch (err) {
          call.emit('error', toGrpcError(err));
          return;
        }
        try {
          await serveExec({ runtime: o.runtime, lookup: o.lookup, clock: o.clock, outputDrainMs: o.outputDrainMs, optionsTimeoutMs: o.execOptionsTimeoutMs, stats }, call);
        } finally {
          stats.openStreams--;
        }
      })();
    },
  };
}

const CONTAINER_STREAMS_SERVICE = lenientService(ContainerStreamsService, (m) => (m === 'logs' ? 'navarch.agent.v1.LogsRequest' : 'navarch.agent.v1.ExecInput'));

export function addContainerStreams(server: Server, o: StreamServerOptions): void {
  server.addService(CONTAINER_STREAMS_SERVICE, containerStreamsServer(o));
}

export interface StreamServer {
  port: number;
  stats: StreamStats;
  stop(): Promise<void>;
}

/** A gRPC server with only ContainerStreams, listening on `address` (port 0: any free port). */
export async function startStreamServer(address: string, o: StreamServerOptions): Promise<StreamServer> {
  const server = new Server();
  const stats = o.stats ?? newStreamStats();
  addContainerStreams(server, { ...o, stats });
  o.register?.(server);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    stats,
    stop: () =>
      // Open follow and exec streams would hold a graceful shutdown forever.
      Promise.resolve(server.forceShutdown()),
  };
}
