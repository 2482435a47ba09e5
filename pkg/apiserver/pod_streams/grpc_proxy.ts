// navarch.apiserver.v1.PodStreams: `logs` and `exec` through the masters. Each call finds the pod's
// agent (target.ts), opens the matching ContainerStreams call there and relays messages both ways
// as they come, one message in flight per side: a slow reader pauses the other end instead of
// filling the master's memory. Cancelling either end cancels the other.

import { Metadata, credentials, type ClientDuplexStream, type ClientReadableStream, type Server, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { ContainerStreamsClient, type ExecInput, type ExecOutput, type LogsChunk } from '../../../gen/navarch/agent/v1/streams.js';
import { PodStreamsService, type PodExecInput, type PodStreamsServer } from '../../../gen/navarch/apiserver/v1/pod_streams.js';
import { checkLogLimits } from '../../agent/stream/log_options.js';
import { realClock, type Clock } from '../../../raft/node/ports.js';
import { API_ERROR_CODES, ApiError, type ApiErrorCode } from '../api_error.js';
import type { ApiServer } from '../api_server.js';
import { ERROR_CODE_METADATA, ERROR_DETAILS_METADATA, toGrpcError } from '../grpc_adapter.js';
import { checkDecoded, lenientService } from './lenient_decoding.js';
import { execTarget, logsTarget, type StreamTarget } from './target.js';

const AGENT_CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
};

/** The agent's own API error passes through; a failure to reach it says which node. */
function relayError(err: unknown, t: StreamTarget): ApiError {
  const e = err as Partial<ServiceError>;
  const code = e.metadata?.get(ERROR_CODE_METADATA)[0];
  if (typeof code === 'string' && (API_ERROR_CODES as string[]).includes(code)) {
    let details = {};
    try {
      details = JSON.parse(String(e.metadata?.get(ERROR_DETAILS_METADATA)[0] ?? '{}')) as object;
    } catch {
      // Details are optional.
    }
    return new ApiError(code as ApiErrorCode, e.details ?? String(err), { ...details, cause: err });
  }
  return new ApiError('Unavailable', `Cannot stream from the agent of node "${t.nodeName}" at ${t.agentAddress}: ${e.details ?? String(err)}`, { retryAfterSeconds: 1, cause: err });
}

interface Relay<Out> {
  /** The downstream (client) side. */
  write(m: Out): boolean;
  once(event: 'drain', f: () => void): unknown;
}

/** Copies the agent's messages to the client, pausing the agent while the client is behind. */
function relayDown<Out>(from: ClientReadableStream<Out> | ClientDuplexStream<unknown, Out>, to: Relay<Out>): void {
  from.on('data', (m: Out) => {
    if (!to.write(m)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
}

/** The agent's messages down to the caller; its end or error ends the call (unless the caller left) and closes the channel. */
function relay<Out>(from: ClientReadableStream<Out> | ClientDuplexStream<unknown, Out>, to: Relay<Out> & { end(): void; emit(event: 'error', e: Error): boolean }, client: { close(): void }, target: StreamTarget, gone: () => boolean): void {
  relayDown(from, to);
  from.on('end', () => {
    client.close();
    if (!gone()) to.end();
  });
  from.on('error', (err) => {
    client.close();
    if (!gone()) to.emit('error', toGrpcError(relayError(err, target)));
  });
}

/** The first message of a bidirectional call, with the call paused after it; refused after timeoutMs. */
function firstMessage<T>(call: ServerDuplexStream<T, unknown>, clock: Clock, timeoutMs: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      off();
      reject(new ApiError('Invalid', `Cannot start exec: no options arrived within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = (): void => {
      clock.clearTimeout(timer);
      call.off('data', onData);
      call.off('end', onEnd);
      call.off('error', onError);
    };
    const onData = (m: T): void => {
      off();
      call.pause();
      resolve(m);
    };
    const onEnd = (): void => {
      off();
      resolve(undefined);
    };
    const onError = (e: Error): void => {
      off();
      reject(e);
    };
    call.on('data', onData);
    call.on('end', onEnd);
    call.on('error', onError);
  });
}

export interface PodStreamsOptions {
  /** @default realClock */
  clock?: Clock;
  /** How long a new exec call may take to send its options. @default 30000 */
  execOptionsTimeoutMs?: number;
}

export function podStreamsServer(api: ApiServer, options: PodStreamsOptions = {}): PodStreamsServer {
  const clock = options.clock ?? realClock;
  const optionsTimeoutMs = options.execOptionsTimeoutMs ?? 30_000;
  return {
    podLogs: (call) => {
      let gone = false;
      let agentCall: ClientReadableStream<LogsChunk> | undefined;
      call.on('cancelled', () => {
        gone = true;
        agentCall?.cancel();
      });
      void (async () => {
        try {
          const r = call.request;
          checkDecoded(r);
          checkLogLimits(r, r.name);
          const target = await logsTarget(api, r);
          if (gone) return;
          const client = new ContainerStreamsClient(target.agentAddress, credentials.createInsecure(), AGENT_CHANNEL_OPTIONS);
          const ac = client.logs({ ...r, uid: target.uid, container: target.container }, new Metadata());
          agentCall = ac;
          relay(ac, call, client, target, () => gone);
        } catch (err) {
          if (!gone) call.emit('error', toGrpcError(err));
        }
      })();
    },
    podExec: (call) => {
      let gone = false;
      let agentCall: ClientDuplexStream<ExecInput, ExecOutput> | undefined;
      call.on('cancelled', () => {
        gone = true;
        agentCall?.cancel();
      });
      call.on('error', () => {});
      void (async () => {
        try {
          const first = await firstMessage<PodExecInput>(call, clock, optionsTimeoutMs);
          checkDecoded(first);
          const o = first?.options;
          if (!o) throw new ApiError('Invalid', 'Cannot start exec: the first message must carry the options (pod, container and command)');
          if (o.argv.length === 0 || o.argv[0] === '') throw new ApiError('Invalid', `Cannot exec in pod "${o.name}": argv: Required value: a command to run is required`, { kind: 'Pod', name: o.name });
          const target = await execTarget(api, o);
          if (gone) return;
          const client = new ContainerStreamsClient(target.agentAddress, credentials.createInsecure(), AGENT_CHANNEL_OPTIONS);
          const ac = client.exec(new Metadata());
          agentCall = ac;
          ac.write({ options: { namespace: o.namespace, name: o.name, uid: target.uid, container: target.container, argv: o.argv, stdin: o.stdin, tty: o.tty } });
          // Client to agent: stdin and resizes; the client's half-close closes the command's stdin.
          call.on('data', (m: PodExecInput) => {
            try {
              checkDecoded(m);
            } catch (err) {
              ac.cancel();
              if (!gone) call.emit('error', toGrpcError(err));
              gone = true;
              return;
            }
            const up: ExecInput | undefined = m.stdin !== undefined ? { stdin: m.stdin } : m.resize ? { resize: m.resize } : undefined;
            if (up && !ac.write(up)) {
              call.pause();
              ac.once('drain', () => call.resume());
            }
          });
          call.on('end', () => ac.end());
          call.resume();
          relay(ac, call, client, target, () => gone);
        } catch (err) {
          if (!gone) call.emit('error', toGrpcError(err));
        }
      })();
    },
  };
}

const POD_STREAMS_SERVICE = lenientService(PodStreamsService, (m) => (m === 'podLogs' ? 'navarch.apiserver.v1.PodLogsRequest' : 'navarch.apiserver.v1.PodExecInput'));

/** Adds navarch.apiserver.v1.PodStreams to a master's gRPC server. */
export function addPodStreams(server: Server, api: ApiServer, options: PodStreamsOptions = {}): void {
  server.addService(POD_STREAMS_SERVICE, podStreamsServer(api, options));
}
