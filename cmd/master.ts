// `navarch master`: one member of the control plane. Raft over --peers, the
// replicated MVCC store, the etcd-compatible gRPC API and the object API
// (navarch.apiserver.v1.Objects) on --listen-client, and Prometheus metrics on
// --listen-metrics. Settings come from flags, or from a
// YAML file (--config) whose keys are the flags' camelCase names; flags win.

import { pino } from 'pino';
import { MAX_EVENT_TTL_SECONDS } from '../pkg/apiserver/event_ttl.js';
import { parseElectionFlags, parseNodeIpamFlags, parseNodeLifecycleFlags } from '../pkg/controllers/manager/flags.js';
import { enabled, resolveMasterFlags, type MasterFlags } from '../pkg/master/config.js';
import { startMasterControlPlane } from '../pkg/master/control_plane.js';
import { masterHealth } from '../pkg/master/health.js';
import { MasterMetrics } from '../pkg/master/metrics.js';
import { MAX_PROPOSAL_BATCH_MS, startMasterMember } from '../pkg/master/member.js';
import { parseMembers } from './members.js';

/** How long SIGTERM waits for the scheduler and controllers to stop and release their leases. */
const CONTROL_PLANE_STOP_MS = 5000;
/** A transfer that has not completed by then (the target lagging or gone) is given up. */
const RAFT_HANDOFF_TIMEOUT_MS = 2000;

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${flag}: "${v}" is not a positive integer`);
  return n;
}

/** An integer from 0 to max, or undefined when not given. */
function intUpTo(flag: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new Error(`${flag}: "${v}" is not an integer from 0 to ${max}`);
  return n;
}

function required(flag: string, v: string | undefined): string {
  if (!v) throw new Error(`${flag} is required (as a flag or in --config)`);
  return v;
}

export async function runMaster(raw: MasterFlags): Promise<void> {
  const flags = resolveMasterFlags(raw);
  const id = positiveInt('--id', required('--id', flags.id))!;
  const dataDir = required('--data-dir', flags.dataDir);
  const listenClient = required('--listen-client', flags.listenClient);
  const peers = flags.peers ? parseMembers('--peers', flags.peers) : [];
  if (peers.length === 0) throw new Error('--peers is required: every member as id=host:port (Raft addresses), this one included');
  if (!peers.some((p) => p.id === id)) throw new Error(`--peers: has no entry for this member's id ${id}`);
  const clientAddresses = new Map<number, string>();
  if (flags.peerClients) {
    for (const c of parseMembers('--peer-clients', flags.peerClients)) {
      if (!peers.some((p) => p.id === c.id)) throw new Error(`--peer-clients: member ${c.id} is not in --peers`);
      clientAddresses.set(c.id, c.address);
    }
  } else if (peers.length > 1) {
    throw new Error('--peer-clients is required with more than one member: every member\'s client address as id=host:port, so followers can forward writes to the leader');
  }
  const election = parseElectionFlags(flags);
  const lifecycle = { ...parseNodeLifecycleFlags(flags), ...parseNodeIpamFlags(flags) };
  const runScheduler = enabled('scheduler', flags.scheduler);
  const runControllers = enabled('controllers', flags.controllers);
  const log = pino({ name: 'master' }).child({ member: id });
  const metrics = new MasterMetrics();
  const quotaBytes = positiveInt('--quota-bytes', flags.quotaBytes);
  const member = await startMasterMember({
    id,
    name: flags.name,
    dataDir,
    peers,
    clientAddresses,
    listenClient,
    tickMs: positiveInt('--tick-ms', flags.tickMs),
    snapshotEntries: positiveInt('--snapshot-entries', flags.snapshotEntries),
    proposalBatchMs: intUpTo('--proposal-batch-ms', flags.proposalBatchMs, MAX_PROPOSAL_BATCH_MS),
    store: quotaBytes ? { quotaBytes } : undefined,
    // 0 keeps events; the bound keeps the lease TTL (plus its reuse window) within the store's.
    eventTtlSeconds: intUpTo('--event-ttl-seconds', flags.eventTtlSeconds, MAX_EVENT_TTL_SECONDS),
    defaultTolerationSeconds: lifecycle.defaultTolerationSeconds,
    onRequest: metrics.onRequest,
    onProposal: metrics.onProposal,
    onApiRequest: metrics.onApiRequest,
    onSync: metrics.onSync,
    logger: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    transportLogger: log.child({ component: 'transport' }),
    systemNamespaces: true,
  });
  metrics.attach(member.node, member.store);
  let metricsPort: number | undefined;
  if (flags.listenMetrics) metricsPort = await metrics.listen(flags.listenMetrics);
  const others = [...clientAddresses].filter(([mid]) => mid !== id).map(([, a]) => a);
  const componentLog = log.child({ component: 'control-plane' });
  const controlPlane = startMasterControlPlane({
    name: flags.name ?? `master-${id}`,
    endpoints: [member.clientAddress, ...others],
    localWatch: { endpoint: member.clientAddress, watch: (req) => member.api.watch(req) },
    scheduler: runScheduler,
    controllers: runControllers,
    metrics,
    election,
    controllerManager: lifecycle,
    coldStandby: enabled('coldStandby', flags.coldStandby, false),
    warmStandby: enabled('warmStandby', flags.warmStandby, false),
    requestWatchProgress: () => member.api.requestWatchProgress(),
    leadsRaft: () => member.node.isLeader(),
    standbyOnRaftLeader: enabled('standbyOnRaftLeader', flags.standbyOnRaftLeader, false),
    handOffRaft: enabled('keepRaftLeadership', flags.keepRaftLeadership, false)
      ? undefined
      : async () => {
          const to = member.node.bestTransferTarget({ live: true });
          if (to === undefined) return undefined;
          await member.node.transferLeadership(to, RAFT_HANDOFF_TIMEOUT_MS);
          return `member ${to}`;
        },
    logger: { info: (m) => componentLog.info(m), warn: (m) => componentLog.warn(m) },
  });
  let stopping = false;
  metrics.health = masterHealth({ leaderId: () => member.node.leaderId(), stopping: () => stopping, components: controlPlane?.plane.healthChecks() ?? [] });
  log.info({ client: member.clientAddress, metricsPort, peers: flags.peers, scheduler: runScheduler, controllers: runControllers, identity: controlPlane?.identity }, 'master serving');
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping on ${signal}: releasing the scheduler and controller leases, then handing leadership over`);
    // Bounded: a component still waiting on its writes must not keep the member from stopping.
    await Promise.race([controlPlane?.stop(), new Promise((r) => setTimeout(r, CONTROL_PLANE_STOP_MS).unref())]);
    await member.stop({ transferLeadership: true });
    await metrics.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
