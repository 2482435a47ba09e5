import { randomInt } from 'node:crypto';
import { SeededRandom } from '../core/random.js';
import type { Entry, Message, NodeId } from '../core/types.js';

export type TimerHandle = { readonly id: number } | object;

/** Wall time and timers. The real one wraps Date/setTimeout; the simulator's is driven by its scheduler. */
export interface Clock {
  nowMs(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = {
  nowMs: () => Date.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * A generator for a real process, seeded from the OS's entropy. Seeds made from the time, the pid
 * and the member id coincided for two members started in one process a millisecond apart; they
 * then drew the same election timeouts and split every vote until a write timed out.
 */
export function entropyRandom(): SeededRandom {
  return new SeededRandom(randomInt(0x1_0000_0000));
}

/** What a transport reports back to the node that owns it. */
export interface TransportHandler {
  /** A message from a peer; the node ignores ones not addressed to it or from outside the configuration. */
  onMessage(m: Message): void;
  /** A peer could not be reached; Raft slows down probing it. */
  onUnreachable(peer: NodeId): void;
  /** A MsgSnap finished sending (ok) or failed (not ok). */
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
}

/**
 * Carries messages between members. `send` never blocks and never throws:
 * a message it cannot deliver is dropped (Raft retries), and a full per-peer
 * queue drops rather than grows.
 */
export interface Transport {
  start(handler: TransportHandler): Promise<void>;
  send(messages: readonly Message[]): void;
  addPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  stop(): Promise<void>;
}

/**
 * The replicated application. Entries reach it in index order, each once per
 * incarnation: after a restart the node restores the latest snapshot (when it
 * is newer than what the machine reports as applied) and replays from there.
 */
export interface StateMachine {
  /** Opens the machine and returns the index it has applied durably (0 if it keeps nothing on disk). */
  open(): Promise<number>;
  /** Applies one committed normal entry; the result goes back to its proposer. */
  apply(entry: Entry): Promise<unknown> | unknown;
  /** Optional: told of each committed entry that is not applied (a new leader's empty entry, a configuration change), in order. */
  skipped?(entry: Entry): void;
  /**
   * A consistent copy of the state after everything applied so far, taken at the call: the promise
   * may settle later, while the node applies more entries (the copy must not include them).
   */
  snapshot(): Promise<Uint8Array>;
  /**
   * Optional: the same copy with `prefix` written before it, in one buffer, so that the node does
   * not copy a large state again to put its own header in front.
   */
  snapshotAfter?(prefix: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional: the same bytes streamed, so that a large state is never held whole: `write` gets
   * `prefix`, then the copy in pieces, each awaited before the next is made (and made in the same
   * memory: `write` must be done with a piece when its promise settles). Resolves with the number
   * of bytes written.
   */
  snapshotTo?(prefix: Uint8Array, write: (piece: Uint8Array) => Promise<void>): Promise<number>;
  /** Replaces the whole state with a snapshot's. */
  restore(data: Uint8Array, index: number): Promise<void>;
}
