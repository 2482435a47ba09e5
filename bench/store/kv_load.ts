// Closed-loop puts and linearizable gets through the etcd3 npm client (requests spread
// over every member, as that client does), at each in-flight count.

import { Etcd3 } from 'etcd3';
import { type LatencySummary, summarize } from './stats.js';

export interface KvResult extends LatencySummary {
  op: 'put' | 'get';
  inflight: number;
  opsPerSecond: number;
  errors: number;
}

const GET_KEYS = 1000;
const REQUEST_TIMEOUT_MS = 10_000;

export function kvClient(endpoints: string[]): Etcd3 {
  return new Etcd3({ hosts: endpoints, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + REQUEST_TIMEOUT_MS }) });
}

async function closedLoop(inflight: number, seconds: number, op: (worker: number, n: number) => Promise<unknown>): Promise<{ lat: number[]; errors: number; elapsedS: number }> {
  const lat: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async (w: number): Promise<void> => {
    for (let n = 0; performance.now() < end; n++) {
      const t0 = performance.now();
      try {
        await op(w, n);
        lat.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, (_, w) => worker(w)));
  return { lat, errors, elapsedS: (performance.now() - start) / 1000 };
}

export interface KvOptions {
  endpoints: string[];
  ops: Array<'put' | 'get'>;
  inflight: number[];
  seconds: number;
  valueBytes: number;
  log: (line: string) => void;
}

export async function runKv(o: KvOptions): Promise<KvResult[]> {
  const client = kvClient(o.endpoints);
  const value = Buffer.alloc(o.valueBytes, 'v');
  const out: KvResult[] = [];
  try {
    // Keys the gets read, and a warm-up (connections, JIT) that is not measured.
    for (let i = 0; i < GET_KEYS; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => client.put(`bench/get/${i + j}`).value(value)));
    }
    await closedLoop(16, 1, (w, n) => client.put(`bench/put/${w}/${n % 100}`).value(value).exec());
    for (const op of o.ops) {
      for (const inflight of o.inflight) {
        const run =
          op === 'put'
            ? (w: number, n: number) => client.put(`bench/put/${w}/${n % 100}`).value(value).exec()
            : (w: number, n: number) => client.get(`bench/get/${(w * 7919 + n) % GET_KEYS}`).exec();
        const r = await closedLoop(inflight, o.seconds, run);
        const res: KvResult = { op, inflight, opsPerSecond: r.lat.length / r.elapsedS, errors: r.errors, ...summarize(r.lat) };
        o.log(`${op} x${inflight}: ${res.opsPerSecond.toFixed(0)} ops/s, p50 ${res.p50Ms.toFixed(2)} ms, p99 ${res.p99Ms.toFixed(2)} ms${res.errors ? `, ${res.errors} errors` : ''}`);
        out.push(res);
      }
    }
  } finally {
    client.close();
  }
  return out;
}
