// `navarch master` settings: flags, or a YAML file (--config) whose keys are
// the flags' camelCase names; flags win over the file. Lists (peers,
// peerClients) may be YAML lists of "id=host:port".

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface MasterFlags {
  config?: string;
  name?: string;
  id?: string;
  dataDir?: string;
  peers?: string;
  peerClients?: string;
  listenClient?: string;
  listenMetrics?: string;
  tickMs?: string;
  snapshotEntries?: string;
  proposalBatchMs?: string;
  quotaBytes?: string;
  eventTtlSeconds?: string;
  /** false: this master does not run the scheduler (`--no-scheduler`; in the file `scheduler: false`). */
  scheduler?: string | boolean;
  /** false: this master does not run the controller manager (`--no-controllers`). */
  controllers?: string | boolean;
  leaseDurationMs?: string;
  renewDeadlineMs?: string;
  retryPeriodMs?: string;
  nodeMonitorGracePeriodMs?: string;
  defaultTolerationSeconds?: string;
  clusterCidr?: string;
  nodeCidrMaskSize?: string;
  /** true: standby components keep no informers; a new leader lists everything when it takes over. */
  coldStandby?: string | boolean;
  /** true: the standby scheduler keeps informers but no scheduler cache and queue; a new leader replays every pod and node into one first. */
  warmStandby?: string | boolean;
  /** true: standby components keep their informers and scheduler warm while this master leads Raft too. */
  standbyOnRaftLeader?: string | boolean;
  /** true: a master holding both leases stays Raft leader too (by default it hands Raft leadership to a member with no lease). */
  keepRaftLeadership?: string | boolean;
}

const KEYS: Array<keyof MasterFlags> = [
  'name',
  'id',
  'dataDir',
  'peers',
  'peerClients',
  'listenClient',
  'listenMetrics',
  'tickMs',
  'snapshotEntries',
  'proposalBatchMs',
  'quotaBytes',
  'eventTtlSeconds',
  'scheduler',
  'controllers',
  'leaseDurationMs',
  'renewDeadlineMs',
  'retryPeriodMs',
  'nodeMonitorGracePeriodMs',
  'defaultTolerationSeconds',
  'clusterCidr',
  'nodeCidrMaskSize',
  'coldStandby',
  'warmStandby',
  'standbyOnRaftLeader',
  'keepRaftLeadership',
];

/** A yes/no setting from a flag (boolean) or the file ("true"/"false"); absent: `absent` (yes unless told). */
export function enabled(key: string, v: string | boolean | undefined, absent = true): boolean {
  if (v === undefined) return absent;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new Error(`--config: "${key}" must be true or false, got "${v}"`);
}

/** Flags over the config file's values; names every unknown key. */
export function resolveMasterFlags(flags: MasterFlags): MasterFlags {
  if (!flags.config) return flags;
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(flags.config, 'utf8'));
  } catch (e) {
    throw new Error(`--config: cannot read "${flags.config}": ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`--config: "${flags.config}" is not a YAML mapping`);
  const out: Record<string, string | boolean | undefined> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!KEYS.includes(k as keyof MasterFlags)) throw new Error(`--config: unknown key "${k}" in "${flags.config}"; known keys: ${KEYS.join(', ')}`);
    if (v === null || typeof v === 'object') {
      if (!Array.isArray(v) || v.some((x) => x === null || typeof x === 'object')) throw new Error(`--config: "${k}" in "${flags.config}" must be a string, a number or a list of them`);
      out[k] = v.join(',');
    } else out[k] = String(v);
  }
  for (const k of KEYS) if (flags[k] !== undefined) out[k] = flags[k];
  return out as MasterFlags;
}
