// Sends generated bad requests with a bounded number in flight, spread over the masters, and keeps
// per category how many got the expected answer, the first mismatches and a sample message.

import { Client, credentials, status as Code, type ServiceError } from '@grpc/grpc-js';
import type { BadCase } from './bad_case.js';
import { RawGrpcChannel } from './grpc_raw.js';

export interface CategoryStats {
  sent: number;
  ok: number;
  /** Sum of the answers' latencies. */
  totalMs: number;
  codes: Map<number, number>;
  /** The first few answers that were not as expected. */
  mismatches: string[];
  sample?: string;
}

export interface StormResult {
  sent: number;
  seconds: number;
  byCategory: Map<string, CategoryStats>;
}

const MAX_MISMATCHES_KEPT = 5;
const raw = (b: Buffer): Buffer => b;

/** Bodies past this go through grpc-js (see grpc_raw.ts). */
const RAW_MAX_BODY_BYTES = 256 * 1024;

/** The status a call ended with: 0 (OK) and an empty message when it succeeded. */
function answer(client: Client, c: BadCase, timeoutMs: number): Promise<{ code: number; message: string }> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    if (!c.stream) {
      client.makeUnaryRequest(c.path, raw, raw, c.body, { deadline }, (err: ServiceError | null) => resolve(err ? { code: err.code, message: err.details } : { code: Code.OK, message: '' }));
      return;
    }
    const s = client.makeServerStreamRequest(c.path, raw, raw, c.body, { deadline });
    let done = false;
    const finish = (code: number, message: string): void => {
      if (done) return;
      done = true;
      resolve({ code, message });
    };
    // A watch that sends an event was accepted: for a bad request that is the wrong answer.
    s.on('data', () => {
      finish(Code.OK, 'the watch was accepted and sent an event');
      s.cancel();
    });
    s.on('error', (err: ServiceError) => finish(err.code, err.details));
    s.on('status', (st: { code: number; details: string }) => finish(st.code, st.details));
  });
}

function matches(c: BadCase, code: number, message: string): boolean {
  if (!c.codes.includes(code)) return false;
  return typeof c.message === 'string' ? message.includes(c.message) : c.message.test(message);
}

export async function storm(endpoints: readonly string[], cases: Iterable<BadCase>, o: { inFlight: number; timeoutMs: number }): Promise<StormResult> {
  const clients = endpoints.map((e) => new Client(e, credentials.createInsecure(), { 'grpc.max_send_message_length': 8 * 1024 * 1024 }));
  const channels = endpoints.map((e) => new RawGrpcChannel(e));
  const byCategory = new Map<string, CategoryStats>();
  const it = cases[Symbol.iterator]();
  let sent = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    for (let next = it.next(); !next.done; next = it.next()) {
      const c = next.value;
      const n = sent++;
      const m = n % endpoints.length;
      const startMs = performance.now();
      const { code, message } = c.body.length > RAW_MAX_BODY_BYTES ? await answer(clients[m], c, o.timeoutMs) : await channels[m].call(c.path, c.body, o.timeoutMs);
      let s = byCategory.get(c.category);
      if (!s) byCategory.set(c.category, (s = { sent: 0, ok: 0, totalMs: 0, codes: new Map(), mismatches: [] }));
      s.sent++;
      s.totalMs += performance.now() - startMs;
      s.codes.set(code, (s.codes.get(code) ?? 0) + 1);
      if (matches(c, code, message)) {
        s.ok++;
        s.sample ??= `${Code[code]}: ${message}`;
      } else if (s.mismatches.length < MAX_MISMATCHES_KEPT) {
        s.mismatches.push(`${c.path} -> ${Code[code] ?? code}: ${message.slice(0, 300)} (expected ${c.codes.map((x) => Code[x]).join('|')} and ${c.message})`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.inFlight }, lane));
  } finally {
    for (const c of clients) c.close();
    for (const c of channels) c.close();
  }
  return { sent, seconds: (performance.now() - t0) / 1000, byCategory };
}
