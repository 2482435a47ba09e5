// The agent's Logs stream: finds the container's log files through the agent's lookup, picks the
// attempt asked for and streams it, following the current attempt until it stops or restarts.

import type { Clock } from '../../../raft/node/ports.js';
import { ApiError } from '../../apiserver/api_error.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { listAttempts, pickAttempt } from './log_files.js';
import { checkLogLimits } from './log_options.js';
import { readLog } from './log_reader.js';
import type { ContainerLookup, ContainerRef } from './lookup.js';

export interface LogsRequest extends ContainerRef {
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps: boolean;
  previous: boolean;
  limitBytes?: number;
}

export interface LogsDeps {
  runtime: ContainerRuntime;
  lookup: ContainerLookup;
  clock: Clock;
  pollIntervalMs?: number;
  chunkBytes?: number;
}

/** Checks the request and opens the file (errors are thrown here, before any output); then yields the text. */
export async function openLogs(deps: LogsDeps, req: LogsRequest, signal?: AbortSignal): Promise<AsyncGenerator<Buffer>> {
  checkLogLimits(req, req.name);
  const loc = await deps.lookup(req);
  if (!loc) throw new ApiError('NotFound', `container "${req.container}" in pod "${req.name}" not found on this node`, { kind: 'pods', name: req.name });
  const attempts = await listAttempts(loc.logDir);
  const picked = pickAttempt(attempts, req.previous);
  if (!picked) {
    if (req.previous) throw new ApiError('NotFound', `previous terminated container "${req.container}" in pod "${req.name}" not found`, { kind: 'pods', name: req.name });
    throw new ApiError('Invalid', `container "${req.container}" in pod "${req.name}" is waiting to start: it has written no logs yet`, { kind: 'pods', name: req.name });
  }
  const finished = async (): Promise<boolean> => {
    if (req.previous) return true;
    const now = await deps.lookup(req);
    if (!now) return true;
    if ((await listAttempts(now.logDir)).some((a) => a.attempt > picked.attempt)) return true;
    if (now.containerId === undefined) return true;
    const state = await deps.runtime.containerStatus(now.containerId);
    return state === undefined || state.phase === 'exited' || state.phase === 'unknown';
  };
  return readLog({
    path: picked.path,
    clock: deps.clock,
    tailLines: req.tailLines,
    sinceMs: req.sinceSeconds === undefined ? undefined : deps.clock.nowMs() - req.sinceSeconds * 1000,
    timestamps: req.timestamps,
    limitBytes: req.limitBytes,
    follow: req.follow,
    finished,
    pollIntervalMs: deps.pollIntervalMs,
    chunkBytes: deps.chunkBytes,
    signal,
  });
}
