// The leader electors on a thread of their own (see election_thread.ts, which starts this file
// through election_worker_entry.mjs). Each is pkg/client/leaderelection's LeaderElector on the real
// clock, with a client of its own; what it decides goes back to the main thread as messages.

import { parentPort, workerData } from 'node:worker_threads';
import { realClock } from '../../../raft/node/ports.js';
import { NavarchClient } from '../../client/mod.js';
import { leaseElector, localReads, type TakeoverDeferral } from './elector.js';
import type { Elector } from './leader_run.js';
import { ALIVE_EVERY_MS, type ElectionWorkerData, type FromElectionWorker, type ToElectionWorker } from './election_messages.js';
import { MainStallWatch, SHARED_DEFERRAL, SHARED_MAIN_BEAT } from './main_stall.js';

const data = workerData as ElectionWorkerData;
const port = parentPort!;
const client = new NavarchClient({ endpoints: data.endpoints, ownConnections: true });
const leaseClient = localReads(client);
const shared = new Int32Array(data.shared);
type Start = Extract<ToElectionWorker, { type: 'start' }>;
/** Every elector the main thread started and has not stopped, running or not. */
const started = new Map<number, Start>();
const electors = new Map<number, Elector>();
const stopping = new Map<number, Promise<void>>();
/** Electors stepping down for a main-thread stall: done once their leases are released. */
const pausing = new Map<number, Promise<void>>();

const post = (m: FromElectionWorker) => port.postMessage(m);

const stall = new MainStallWatch(() => Atomics.load(shared, SHARED_MAIN_BEAT), realClock, data.mainStallMs, {
  stalled(silentMs) {
    // The term's work is not being done: let another master's standby do it.
    post({ type: 'mainStalled', silentMs, electors: electors.size });
    for (const [id, elector] of electors) {
      electors.delete(id);
      const released = elector.stop().catch((err: unknown) => post({ type: 'error', id, message: `stepping down: ${(err as Error)?.message ?? err}` }));
      pausing.set(id, released.then(() => void pausing.delete(id)));
    }
  },
  recovered(silentMs) {
    for (const [id, m] of started) {
      void (pausing.get(id) ?? Promise.resolve()).then(() => {
        if (!stall.stalled && started.get(id) === m && !electors.has(id)) run(m);
      });
    }
    post({ type: 'mainRecovered', silentMs });
  },
});

function start(m: Start): void {
  started.set(m.id, m);
  if (!stall.stalled) run(m);
}

function run(m: Start): void {
  const { id } = m;
  const elector = leaseElector({
    name: m.name,
    identity: m.identity,
    client: leaseClient,
    clock: realClock,
    timings: m.timings,
    // The main thread keeps the flag current (a TakeoverDeferral; see ControlPlaneOptions.deferTakeover).
    deferTakeover: m.deferrable ? () => Atomics.load(shared, SHARED_DEFERRAL) as TakeoverDeferral : undefined,
    onError: (err) => post({ type: 'error', id, message: (err as Error)?.message ?? String(err) }),
  })({
    onStartedLeading: ({ token, takeover }) => post({ type: 'started', id, token, takeover }),
    onStoppedLeading: () => post({ type: 'stoppedLeading', id }),
    onNewLeader: (identity) => post({ type: 'newLeader', id, identity }),
    onLeaseCurrent: (current) => post({ type: 'leaseCurrent', id, current }),
    onRenewed: () => post({ type: 'renewed', id }),
  });
  electors.set(id, elector);
  elector.start();
}

function stop(id: number): void {
  started.delete(id);
  const elector = electors.get(id);
  electors.delete(id);
  if (stopping.has(id)) return;
  // stop() releases a held lease; the main thread stopped the term's parts before asking.
  const done = (elector ? elector.stop() : (pausing.get(id) ?? Promise.resolve()))
    .catch((err: unknown) => post({ type: 'error', id, message: `stopping: ${(err as Error)?.message ?? err}` }))
    .then(() => {
      stopping.delete(id);
      post({ type: 'stopped', id });
    });
  stopping.set(id, done);
}

port.on('message', (m: ToElectionWorker) => {
  if (m.type === 'start') start(m);
  else if (m.type === 'stop') stop(m.id);
  else if (m.type === 'close') {
    clearInterval(alive);
    clearInterval(watchMain);
    // Paused electors too: their releases finish before the thread ends.
    for (const id of [...started.keys()]) stop(id);
    void Promise.all(stopping.values()).then(() => {
      client.close();
      port.close();
    });
  }
});
// The main thread ends a thread that falls silent (see ElectionThread's watchdog).
const alive = setInterval(() => post({ type: 'alive' }), ALIVE_EVERY_MS);
const watchMain = setInterval(() => stall.check(), Math.min(500, data.mainStallMs / 4));
