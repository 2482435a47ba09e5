// Watch delivery through the etcd3 client: latency at a fixed (open-loop) put rate, and
// fan-out of one put to many watchers on one member.

import { Etcd3 } from 'etcd3';
import { kvClient } from './kv_load.js';
import { rssMiB } from './rss.js';
import { type LatencySummary, sleep, summarize, until } from './stats.js';

export interface WatchLatencyResult {
  putsPerSecondAsked: number;
  putsPerSecondDone: number;
  /** Put acknowledged to event delivered (0 when the event came first). */
  ackToEvent: LatencySummary;
  /** Put sent to event delivered. */
  sendToEvent: LatencySummary;
  put: LatencySummary;
  errors: number;
  missingEvents: number;
  /** Puts sent over LATE_MS after their scheduled time (the client held back at MAX_INFLIGHT_PUTS). */
  latePuts: number;
}

const MAX_INFLIGHT_PUTS = 1000;
const LATE_MS = 10;
const DELIVERY_TIMEOUT_MS = 30_000;

function watchClient(endpoint: string): Etcd3 {
  return new Etcd3({ hosts: [endpoint] });
}

/** Puts at `rate` a second for `seconds` (scheduled by the clock, not by replies), watched on the first member. */
export async function runWatchLatency(o: { endpoints: string[]; rate: number; seconds: number; valueBytes: number }): Promise<WatchLatencyResult> {
  const total = Math.max(1, Math.round(o.rate * o.seconds));
  const sent = new Float64Array(total).fill(NaN);
  const acked = new Float64Array(total).fill(NaN);
  const seen = new Float64Array(total).fill(NaN);
  const prefix = 'bench/watch/';
  const watcherClient = watchClient(o.endpoints[0]);
  const putter = kvClient(o.endpoints);
  const pad = Buffer.alloc(Math.max(0, o.valueBytes - 12), 'w');
  let received = 0;
  let errors = 0;
  let latePuts = 0;
  let inflight = 0;
  try {
    const watcher = await watcherClient.watch().prefix(prefix).create();
    watcher.on('put', (kv) => {
      const seq = Number(kv.key.toString().slice(prefix.length));
      if (seq >= 0 && seq < total && Number.isNaN(seen[seq])) {
        seen[seq] = performance.now();
        received++;
      }
    });
    await putter.put(`${prefix}warmup`).value('x');
    const start = performance.now();
    let issued = 0;
    while (issued < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate) + 1);
      for (; issued < due; issued++) {
        if (inflight >= MAX_INFLIGHT_PUTS) break;
        const seq = issued;
        sent[seq] = performance.now();
        if (sent[seq] - (start + (seq * 1000) / o.rate) > LATE_MS) latePuts++;
        inflight++;
        putter
          .put(`${prefix}${seq}`)
          .value(Buffer.concat([Buffer.from(String(seq).padStart(12, '0')), pad]))
          .then(
            () => (acked[seq] = performance.now()),
            () => errors++,
          )
          .finally(() => inflight--);
      }
      await sleep(1);
    }
    await until('the last puts to be acknowledged', () => inflight === 0, DELIVERY_TIMEOUT_MS);
    const elapsedS = (Math.max(...acked.filter((t) => !Number.isNaN(t))) - start) / 1000;
    await until('every event', () => received >= total - errors, DELIVERY_TIMEOUT_MS).catch(() => undefined);
    await watcher.cancel();
    const ackToEvent: number[] = [];
    const sendToEvent: number[] = [];
    const put: number[] = [];
    for (let i = 0; i < total; i++) {
      if (!Number.isNaN(acked[i])) put.push(acked[i] - sent[i]);
      if (Number.isNaN(seen[i])) continue;
      sendToEvent.push(seen[i] - sent[i]);
      if (!Number.isNaN(acked[i])) ackToEvent.push(Math.max(0, seen[i] - acked[i]));
    }
    return {
      putsPerSecondAsked: o.rate,
      putsPerSecondDone: put.length / elapsedS,
      ackToEvent: summarize(ackToEvent),
      sendToEvent: summarize(sendToEvent),
      put: summarize(put),
      errors,
      missingEvents: total - errors - received,
      latePuts,
    };
  } finally {
    putter.close();
    watcherClient.close();
  }
}

export interface FanoutResult {
  watchers: number;
  streams: number;
  /** Put sent to the last watcher receiving it. */
  sendToLast: LatencySummary;
  /** Time to attach every watcher. */
  attachMs: number;
  rssBeforeMiB: number;
  rssWithWatchersMiB: number;
  incompletePuts: number;
}

/** `watchers` watchers on one key, all on the first member, spread over connections of watchersPerStream each. */
export async function runFanout(o: {
  endpoints: string[];
  watchers: number;
  watchersPerStream: number;
  puts: number;
  memberPid: number | undefined;
}): Promise<FanoutResult> {
  const key = `bench/fanout/${o.watchers}`;
  const streams = Math.ceil(o.watchers / o.watchersPerStream);
  const clients = Array.from({ length: streams }, () => watchClient(o.endpoints[0]));
  const putter = kvClient(o.endpoints);
  const counts = new Map<number, number>();
  const lastAt = new Map<number, number>();
  const rssBeforeMiB = rssMiB(o.memberPid);
  try {
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c, i) => {
        const mine = Math.min(o.watchersPerStream, o.watchers - i * o.watchersPerStream);
        for (let j = 0; j < mine; j++) {
          const w = await c.watch().key(key).create();
          w.on('put', (kv) => {
            const seq = Number(kv.value.toString());
            const n = (counts.get(seq) ?? 0) + 1;
            counts.set(seq, n);
            if (n === o.watchers) lastAt.set(seq, performance.now());
          });
        }
      }),
    );
    const attachMs = performance.now() - t0;
    const sendToLast: number[] = [];
    let incompletePuts = 0;
    // Put 0 warms up and is not counted; each put waits for the previous one to reach everyone.
    for (let seq = 0; seq <= o.puts; seq++) {
      const sentAt = performance.now();
      await putter.put(key).value(String(seq));
      try {
        await until(`put ${seq} to reach ${o.watchers} watchers`, () => lastAt.has(seq), DELIVERY_TIMEOUT_MS, 1);
        if (seq > 0) sendToLast.push(lastAt.get(seq)! - sentAt);
      } catch {
        if (seq > 0) incompletePuts++;
      }
    }
    return { watchers: o.watchers, streams, sendToLast: summarize(sendToLast), attachMs, rssBeforeMiB, rssWithWatchersMiB: rssMiB(o.memberPid), incompletePuts };
  } finally {
    putter.close();
    for (const c of clients) c.close();
  }
}
