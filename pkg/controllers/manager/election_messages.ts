// What the main thread and the election thread say to each other (election_thread.ts, election_worker.ts).

import type { Takeover } from '../../client/leaderelection/mod.js';
import type { FencingToken } from '../../apiserver/fencing.js';
import type { ElectionTimings } from './elector.js';

/** The thread says it is alive this often, whatever else it says. */
export const ALIVE_EVERY_MS = 1000;

export interface ElectionWorkerData {
  endpoints: string[];
  /**
   * An Int32Array's buffer (main_stall.ts' SHARED_* slots): the TakeoverDeferral the main thread
   * keeps current, and a count it bumps every 100 ms while its event loop runs.
   */
  shared: SharedArrayBuffer;
  /** The electors step down while the main thread's count has not moved for this long (MainStallWatch). */
  mainStallMs: number;
}

export type ToElectionWorker =
  /** timings: with their defaults filled in (checked on the main thread). */
  | { type: 'start'; id: number; name: string; identity: string; timings: Required<ElectionTimings>; deferrable: boolean }
  | { type: 'stop'; id: number }
  | { type: 'close' };

export type FromElectionWorker =
  | { type: 'alive' }
  /** The main thread's count stood still for silentMs: the electors running (how many) step down, releasing held leases. */
  | { type: 'mainStalled'; silentMs: number; electors: number }
  /** The count moves again after silentMs: the electors campaign again. */
  | { type: 'mainRecovered'; silentMs: number }
  | { type: 'started'; id: number; token: FencingToken; takeover?: Takeover }
  | { type: 'stoppedLeading'; id: number }
  /** While leading: whether the lease is still current (LeaderCallbacks.onLeaseCurrent). */
  | { type: 'leaseCurrent'; id: number; current: boolean }
  /** While leading: the lease was acquired or renewed (LeaderCallbacks.onRenewed). */
  | { type: 'renewed'; id: number }
  | { type: 'newLeader'; id: number; identity: string }
  | { type: 'error'; id: number; message: string }
  /** The elector has stopped and released its lease (if it held it). */
  | { type: 'stopped'; id: number };
