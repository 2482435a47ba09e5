import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { decodeCgroupsV1, decodeCgroupsV2 } from './stats.js';

describe('decodeCgroupsV1', () => {
  it('reads cpu usage and the working set from metrics whose other fields overflow a double', () => {
    const NO_LIMIT = 2n ** 63n - 4096n;
    const usage = new BinaryWriter().uint32(8).uint64(NO_LIMIT).uint32(16).uint64(5_000_000n).finish(); // MemoryEntry limit=1, usage=2
    const memory = new BinaryWriter().uint32(8).uint64(123n).uint32(240).uint64(1_000_000n).uint32(266).bytes(usage).finish(); // cache=1, total_inactive_file=30, usage=33
    const cpuUsage = new BinaryWriter().uint32(8).uint64(42_000_000_000n).finish(); // total=1
    const cpu = new BinaryWriter().uint32(10).bytes(cpuUsage).finish(); // usage=1
    const metrics = new BinaryWriter().uint32(26).bytes(cpu).uint32(34).bytes(memory).finish(); // cpu=3, memory=4
    assert.deepEqual(decodeCgroupsV1(metrics), { cpuUsageNanos: 42_000_000_000, memoryWorkingSetBytes: 4_000_000 });
  });

  it('reads cgroups v2 metrics: cpu in microseconds, memory usage less inactive file', () => {
    const cpu = new BinaryWriter().uint32(8).uint64(7_000n).finish(); // usage_usec=1
    const memory = new BinaryWriter().uint32(104).uint64(1_000n).uint32(256).uint64(9_000n).finish(); // inactive_file=13, usage=32
    const metrics = new BinaryWriter().uint32(18).bytes(cpu).uint32(34).bytes(memory).finish(); // cpu=2, memory=4
    assert.deepEqual(decodeCgroupsV2(metrics), { cpuUsageNanos: 7_000_000, memoryWorkingSetBytes: 8_000 });
  });

  it('gives zeros for empty metrics', () => {
    assert.deepEqual(decodeCgroupsV1(new Uint8Array()), { cpuUsageNanos: 0, memoryWorkingSetBytes: 0 });
  });
});
