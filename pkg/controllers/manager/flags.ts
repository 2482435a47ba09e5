// Settings shared by `navarch master`, `navarch scheduler` and `navarch controllers`: the leader
// election's timings, the node lifecycle's and the node IPAM's, checked with the flag's name in the
// message.

import type { ControllerManagerOptions } from './components.js';
import { CidrSet, DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE } from '../nodeipam/mod.js';
import type { ElectionTimings } from './elector.js';

export interface ElectionFlags {
  leaseDurationMs?: string;
  renewDeadlineMs?: string;
  retryPeriodMs?: string;
}

export interface NodeLifecycleFlags {
  nodeMonitorGracePeriodMs?: string;
  defaultTolerationSeconds?: string;
}

export interface NodeIpamFlags {
  clusterCidr?: string;
  nodeCidrMaskSize?: string;
}

function intFlag(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got "${v}"`);
  return n;
}

/**
 * Defaults: lease 2000 ms, renewed every 500 ms, given up after 10000 ms without a renewal
 * (client-go's renewDeadline; lease + 2 retry periods if that is longer). The leader's writes are
 * fenced, so its deadline may outlast the lease: a leader slowed by load keeps its term while
 * nobody else has taken the lease, and one that lost it stops at its next answer. With a 3 s
 * deadline, renewals taking about a second during a 150,000-pod fill made the holder give up its
 * term three times and take it straight back. A 2 s lease halves the failover of a 3 s one's. A
 * shorter lease scales the retry period down.
 */
export function parseElectionFlags(f: ElectionFlags): ElectionTimings {
  const t: ElectionTimings = {
    leaseDurationMs: intFlag('--lease-duration-ms', f.leaseDurationMs, 100),
    renewDeadlineMs: intFlag('--renew-deadline-ms', f.renewDeadlineMs, 50),
    retryPeriodMs: intFlag('--retry-period-ms', f.retryPeriodMs, 10),
  };
  const lease = t.leaseDurationMs ?? 2000;
  const retry = t.retryPeriodMs ?? Math.min(1000, Math.floor(lease / 4));
  const renew = t.renewDeadlineMs ?? Math.max(lease + 2 * retry, 10_000);
  if (retry >= lease) throw new Error(`--retry-period-ms (${retry}) must be less than --lease-duration-ms (${lease})`);
  if (retry >= renew) throw new Error(`--retry-period-ms (${retry}) must be less than --renew-deadline-ms (${renew})`);
  return { leaseDurationMs: lease, renewDeadlineMs: renew, retryPeriodMs: retry };
}

export function parseNodeLifecycleFlags(f: NodeLifecycleFlags): Pick<ControllerManagerOptions, 'nodeMonitorGracePeriodMs' | 'defaultTolerationSeconds'> {
  return {
    nodeMonitorGracePeriodMs: intFlag('--node-monitor-grace-period-ms', f.nodeMonitorGracePeriodMs, 100),
    defaultTolerationSeconds: intFlag('--default-toleration-seconds', f.defaultTolerationSeconds, 0),
  };
}

/** The cluster CIDR and node mask as given (checked together when the controller starts, too). */
export function parseNodeIpamFlags(f: NodeIpamFlags): Pick<ControllerManagerOptions, 'clusterCIDR' | 'nodeCIDRMaskSize'> {
  const nodeCIDRMaskSize = intFlag('--node-cidr-mask-size', f.nodeCidrMaskSize, 1);
  if (f.clusterCidr === undefined && nodeCIDRMaskSize === undefined) return { clusterCIDR: undefined, nodeCIDRMaskSize: undefined };
  const clusterCIDR = f.clusterCidr;
  try {
    new CidrSet(clusterCIDR ?? DEFAULT_CLUSTER_CIDR, nodeCIDRMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^clusterCIDR/, '--cluster-cidr').replace(/^nodeCIDRMaskSize/, '--node-cidr-mask-size'));
  }
  return { clusterCIDR, nodeCIDRMaskSize };
}
