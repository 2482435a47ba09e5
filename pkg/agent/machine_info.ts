// The node's capacity as the kubelet reads it from the machine: CPUs, memory from /proc/meminfo,
// ephemeral storage from the filesystem holding the agent's data, and the pod limit.

import { readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, hostname, release } from 'node:os';
import type { NodeSystemInfo } from '../../gen/navarch/api/v1/core.js';
import type { NodeResources } from './node_registration.js';

/** The kubelet's default --max-pods. */
export const DEFAULT_MAX_PODS = 110;

/** MemTotal of /proc/meminfo in bytes ("MemTotal:  24563412 kB"). */
export function parseMemTotalBytes(meminfo: string): number {
  const m = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  if (!m) throw new Error('/proc/meminfo: no "MemTotal: <n> kB" line');
  return Number(m[1]) * 1024;
}

export function machineCapacity(dataDir: string, maxPods = DEFAULT_MAX_PODS): NodeResources {
  const memoryBytes = parseMemTotalBytes(readFileSync('/proc/meminfo', 'utf8'));
  const fs = statfsSync(dataDir);
  return {
    cpu: String(availableParallelism()),
    memory: `${Math.floor(memoryBytes / 1024)}Ki`,
    pods: String(maxPods),
    ephemeralStorage: `${Math.floor((fs.blocks * fs.bsize) / 1024)}Ki`,
  };
}

/** What `kubectl describe node` shows under System Info, as far as this process knows it. */
export function machineSystemInfo(containerRuntimeVersion: string): Partial<NodeSystemInfo> {
  let machineID = '';
  try {
    machineID = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    // Not every container or minimal system has one.
  }
  return { machineID, kernelVersion: release(), osImage: osImage(), containerRuntimeVersion };
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1];
  } catch {
    // Fall through to the host name.
  }
  return `Linux (${hostname()})`;
}
