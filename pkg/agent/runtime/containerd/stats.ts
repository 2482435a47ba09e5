// CPU and memory of a container from Tasks.Metrics (cgroups v1 or v2 metrics; others give undefined).
// The generated Metrics type cannot decode real samples: memory limits of "no limit" are near 2^64
// and overflow the numbers that gen/ uses for 64-bit fields. So the few fields we report are read
// straight off the wire (field numbers from cgroups' stats/v1/metrics.proto), as bigints.

import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ContainerStats } from '../runtime.js';
import { isNotFound, type ContainerdClient } from './client.js';

const CGROUPS_V1_METRICS = 'io.containerd.cgroups.v1.Metrics';
const CGROUPS_V2_METRICS = 'io.containerd.cgroups.v2.Metrics';

/** Path of field numbers to a uint64 → its value; nested messages are followed by the path. */
function readUint64s(data: Uint8Array, wanted: readonly number[][]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const walk = (bytes: Uint8Array, prefix: number[]) => {
    const r = new BinaryReader(bytes);
    while (r.pos < r.len) {
      const [field, wire] = r.tag();
      const path = [...prefix, field];
      const wantedHere = wanted.some((w) => w.length === path.length && w.every((x, i) => x === path[i]));
      const wantedBelow = wanted.some((w) => w.length > path.length && path.every((x, i) => x === w[i]));
      if (wire === WireType.Varint && wantedHere) out.set(path.join('.'), BigInt(r.uint64()));
      else if (wire === WireType.LengthDelimited && wantedBelow) walk(r.bytes(), path);
      else r.skip(wire);
    }
  };
  walk(data, []);
  return out;
}

const CPU_TOTAL = [3, 1, 1];
const MEMORY_INACTIVE_FILE = [4, 30];
const MEMORY_USAGE = [4, 33, 2];

export function decodeCgroupsV1(data: Uint8Array): { cpuUsageNanos: number; memoryWorkingSetBytes: number } {
  const v = readUint64s(data, [CPU_TOTAL, MEMORY_INACTIVE_FILE, MEMORY_USAGE]);
  const usage = v.get(MEMORY_USAGE.join('.')) ?? 0n;
  const inactive = v.get(MEMORY_INACTIVE_FILE.join('.')) ?? 0n;
  return {
    cpuUsageNanos: Number(v.get(CPU_TOTAL.join('.')) ?? 0n),
    // The kubelet's working set: usage less the inactive file cache, which the kernel can reclaim.
    memoryWorkingSetBytes: Number(usage > inactive ? usage - inactive : 0n),
  };
}

// cgroups/v2/stats/metrics.proto: Metrics.cpu = 2 (usage_usec = 1), Metrics.memory = 4 (inactive_file = 13, usage = 32).
const V2_CPU_USEC = [2, 1];
const V2_MEMORY_INACTIVE_FILE = [4, 13];
const V2_MEMORY_USAGE = [4, 32];

export function decodeCgroupsV2(data: Uint8Array): { cpuUsageNanos: number; memoryWorkingSetBytes: number } {
  const v = readUint64s(data, [V2_CPU_USEC, V2_MEMORY_INACTIVE_FILE, V2_MEMORY_USAGE]);
  const usage = v.get(V2_MEMORY_USAGE.join('.')) ?? 0n;
  const inactive = v.get(V2_MEMORY_INACTIVE_FILE.join('.')) ?? 0n;
  return { cpuUsageNanos: Number((v.get(V2_CPU_USEC.join('.')) ?? 0n) * 1000n), memoryWorkingSetBytes: Number(usage > inactive ? usage - inactive : 0n) };
}

export async function containerStats(client: ContainerdClient, id: string, nowMs: number): Promise<ContainerStats | undefined> {
  let res;
  try {
    const t = client.tasks;
    res = await client.unary('Tasks.Metrics', t.metrics.bind(t), { filters: [`id==${id}`] }, { timeoutMs: 10_000 });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  const m = res.metrics.find((x) => x.id === id);
  const url = m?.data?.typeUrl ?? '';
  const decode = url.endsWith(CGROUPS_V1_METRICS) ? decodeCgroupsV1 : url.endsWith(CGROUPS_V2_METRICS) ? decodeCgroupsV2 : undefined;
  if (!m?.data || !decode) return undefined;
  return { ...decode(m.data.value), timestampMs: m.timestamp?.getTime() ?? nowMs };
}
