// Many bindings at once (the scheduler's BindBatch): each is decided on this member's copy of its
// pod, and those that can be written go in one store transaction, one Raft entry instead of one
// each, every pod pinned to the version it was decided on. A binding refused on that copy, or left
// out of a transaction that could not take them all (a pod changed meanwhile, a stale token), is
// done by its own bind(), which decides it again on a fresh read and answers for it.

import { kindByName, type Pod } from '../api/registry.js';
import type { Compare, RequestOp } from '../store/mod.js';
import { ApiError, toApiError } from './api_error.js';
import { txnChunks, answerAlone, writeInOneTxn, type BatchOutcome } from './batch_txn.js';
import { bind, checkBinding, decideBinding, type BindRequest } from './bind.js';
import type { Context } from './context.js';
import { fencedTxn, tokenKey, type FencingToken } from './fencing.js';
import { RECHECK, SAME, checkUpdate, planUpdate, readForWrite } from './update.js';

const POD = kindByName('Pod');

export type BindOutcome = BatchOutcome<Pod>;

/** Bindings one transaction carries: a compare each and the fence, within the store's 128 operations. */
export const MAX_BINDINGS_PER_TXN = 60;

interface Planned {
  i: number;
  fencing: FencingToken | undefined;
  next: Pod;
  key: string;
  value: Uint8Array;
  compare: Compare[];
}

/** Each request's outcome, in order. */
export async function bindBatch(ctx: Context, reqs: readonly BindRequest[]): Promise<BindOutcome[]> {
  const outcomes: BindOutcome[] = new Array(reqs.length);
  const planned: Planned[] = [];
  const alone: number[] = [];
  await Promise.all(
    reqs.map(async (req, i) => {
      try {
        if (typeof req !== 'object' || req === null) throw new ApiError('Invalid', 'Cannot serve the request: expected a request object');
        const p = await plan(ctx, req, i);
        if (p) planned.push(p);
        else alone.push(i);
      } catch (err) {
        outcomes[i] = { error: toApiError(err) };
      }
    }),
  );
  planned.sort((a, b) => a.i - b.i);
  // The same pod twice: each bind() on its own (the second is refused, as two binds would be).
  const keys = new Map<string, number>();
  for (const p of planned) keys.set(p.key, (keys.get(p.key) ?? 0) + 1);
  const groups = new Map<string, Planned[]>();
  for (const p of planned) {
    if (keys.get(p.key)! > 1) {
      alone.push(p.i);
      continue;
    }
    const group = groups.get(tokenKey(p.fencing)) ?? [];
    group.push(p);
    groups.set(tokenKey(p.fencing), group);
  }
  const writes: Array<Promise<void>> = alone.map((i) => bindAlone(ctx, reqs, i, outcomes));
  for (const group of groups.values()) {
    for (const chunk of txnChunks(group, MAX_BINDINGS_PER_TXN, (p) => p.value.byteLength)) {
      writes.push(chunk.length === 1 ? bindAlone(ctx, reqs, chunk[0].i, outcomes) : writeTogether(ctx, reqs, chunk, outcomes));
    }
  }
  await Promise.all(writes);
  return outcomes;
}

/** The binding decided and encoded on this member's copy of the pod, or undefined when bind() must decide it. */
async function plan(ctx: Context, req: BindRequest, i: number): Promise<Planned | undefined> {
  if (req.dryRun) return undefined;
  const { name, ns, nodeName, fencing } = checkBinding(req);
  const cur = await readForWrite(ctx, POD, ns, name, true);
  const decided = decideBinding(ctx, cur, name, req.uid, nodeName);
  if (!cur || !('next' in decided)) return undefined;
  const o = { fencing, local: true, podChange: 'binding' as const };
  if (checkUpdate(ctx, POD, cur.object, decided.next, o) === RECHECK) return undefined;
  const p = planUpdate(ctx, POD, cur, decided.next, o);
  if (p === RECHECK || p === SAME || p.remove) return undefined;
  return { i, fencing, next: decided.next, key: p.key, value: p.value, compare: p.compare };
}

function bindAlone(ctx: Context, reqs: readonly BindRequest[], i: number, outcomes: BindOutcome[]): Promise<void> {
  return answerAlone(outcomes, i, () => bind(ctx, reqs[i]));
}

function writeTogether(ctx: Context, reqs: readonly BindRequest[], items: Planned[], outcomes: BindOutcome[]): Promise<void> {
  const compare = items.flatMap((p) => p.compare);
  const success: RequestOp[] = items.map((p) => ({ type: 'put', key: p.key, value: p.value }));
  return writeInOneTxn(
    items,
    () => fencedTxn(ctx, { compare, success }, items[0].fencing, { info: POD, name: items[0].next.metadata?.name ?? '' }),
    (p) => ({ object: p.next, value: p.value }),
    // A pod changed since this member's copy: each decided again on a fresh read.
    async () => void (await Promise.all(items.map((p) => bindAlone(ctx, reqs, p.i, outcomes)))),
    outcomes,
  );
}
