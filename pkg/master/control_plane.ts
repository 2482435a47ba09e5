// The scheduler and the controller manager inside a master: each competes for its Lease with the
// other masters' (one active of each across the cluster). They talk to the cluster as any remote
// client does, through the object API, this member first, so a write takes the same path (and the
// same fencing check) as from `navarch scheduler` on another machine. Only their watches of this
// member skip the wire: they read its watch cache in process.

import type { ControllerManagerOptions } from '../controllers/manager/components.js';
import { ControlPlane, newIdentity } from '../controllers/manager/control_plane.js';
import type { ElectionTimings } from '../controllers/manager/elector.js';
import type { RunnerLogger } from '../controllers/manager/leader_run.js';
import { NavarchClient } from '../client/mod.js';
import type { LocalWatchSource } from '../client/watch.js';
import type { MasterMetrics } from './metrics.js';
import { holdsEveryLease, RaftHandOff } from './raft_handoff.js';
import { CONTROLLER_MANAGER_LEASE, SCHEDULER_LEASE } from '../controllers/manager/components.js';
import { realClock } from '../../raft/node/ports.js';

export interface MasterControlPlaneOptions {
  /** This member's name: the leases' holder identity starts with it. */
  name: string;
  /** This member's client address first, then the others'. */
  endpoints: string[];
  /** This member's watches, read in process (its ApiServer.watch). */
  localWatch?: LocalWatchSource;
  scheduler: boolean;
  controllers: boolean;
  metrics: MasterMetrics;
  election?: ElectionTimings;
  controllerManager?: Omit<ControllerManagerOptions, 'logger'>;
  coldStandby?: boolean;
  warmStandby?: boolean;
  /** This member's ApiServer.requestWatchProgress: a new term's informers catch up before it acts. */
  requestWatchProgress?: () => void;
  /** Whether this member leads Raft now: then its components let the other masters take a lease first, and (unless standbyOnRaftLeader) drop their standby. */
  leadsRaft?: () => boolean;
  /** Keep the warm standby while this member leads Raft too (see ControlPlaneOptions.suspendStandbyWhile). */
  standbyOnRaftLeader?: boolean;
  logger: RunnerLogger;
  /**
   * Moves Raft leadership to another member (resolving with its name, or undefined when there is
   * none to move it to), called when this master leads Raft and holds both leases (see
   * raft_handoff.ts); absent: it never does.
   */
  handOffRaft?: () => Promise<string | undefined>;
  /** How long both must hold first. @default 10000 */
  raftHandOffAfterMs?: number;
}

export interface MasterControlPlane {
  plane: ControlPlane;
  identity: string;
  /** Stops the components and releases their leases, then closes the client. */
  stop(): Promise<void>;
}

export function startMasterControlPlane(o: MasterControlPlaneOptions): MasterControlPlane | undefined {
  if (!o.scheduler && !o.controllers) return undefined;
  const client = new NavarchClient({ endpoints: o.endpoints, localWatch: o.localWatch });
  const identity = newIdentity(o.name);
  const plane = new ControlPlane({
    client,
    identity,
    scheduler: o.scheduler,
    controllers: o.controllers,
    registry: o.metrics.registry,
    election: o.election,
    controllerManager: o.controllerManager,
    coldStandby: o.coldStandby,
    warmStandby: o.warmStandby,
    requestWatchProgress: o.requestWatchProgress,
    deferTakeover: o.leadsRaft,
    suspendStandbyWhile: o.standbyOnRaftLeader ? undefined : o.leadsRaft,
    logger: o.logger,
  });
  plane.start();
  // A master running one component cannot tell where the other's lease is: it never hands off.
  const handOff =
    o.handOffRaft && o.leadsRaft && o.scheduler && o.controllers
      ? new RaftHandOff({
          clock: realClock,
          leadsRaft: o.leadsRaft,
          holdsEveryLease: () => holdsEveryLease(plane.runners, [SCHEDULER_LEASE, CONTROLLER_MANAGER_LEASE]),
          handOff: o.handOffRaft,
          afterMs: o.raftHandOffAfterMs,
          logger: o.logger,
        })
      : undefined;
  handOff?.start();
  return {
    plane,
    identity,
    async stop() {
      handOff?.stop();
      await plane.stop();
      client.close();
    },
  };
}
