// Many creates at once (the Event recorder's batches): each is prepared and refused on its own,
// exactly as its own create would be, and those that pass are written in one store transaction:
// one Raft entry, applied once by each member, instead of one each. When that transaction cannot
// take them all (a name taken meanwhile, a namespace changed or missing, a stale fencing token),
// each is written on its own and gets its own answer.

import type { KubeObject } from '../api/registry.js';
import type { Compare, RequestOp } from '../store/mod.js';
import { ApiError, toApiError } from './api_error.js';
import { txnChunks, answerAlone, writeInOneTxn, type BatchOutcome } from './batch_txn.js';
import type { Context } from './context.js';
import { prepareCreate, writeCreate, type CreateRequest, type PreparedCreate } from './create.js';
import { withExpiry } from './event_ttl.js';
import { fencedTxn, leaseFenceOps, tokenKey } from './fencing.js';
import { namespaceGuard } from './write_checks.js';

type Item = { i: number; p: PreparedCreate };

export type CreateOutcome = BatchOutcome<KubeObject>;

/**
 * Creates one transaction carries: a create's compare, its namespace's and the fence must stay
 * within the store's 128 operations per transaction (etcd's --max-txn-ops).
 */
export const MAX_CREATES_PER_TXN = 60;

/** Each request's outcome, in order. */
export async function createBatch(ctx: Context, reqs: readonly CreateRequest[]): Promise<CreateOutcome[]> {
  const outcomes: CreateOutcome[] = new Array(reqs.length);
  const prepared: Item[] = [];
  await Promise.all(
    reqs.map(async (req, i) => {
      try {
        if (typeof req !== 'object' || req === null) throw new ApiError('Invalid', 'Cannot serve the request: expected a request object');
        if (req.subresource) throw new ApiError('Invalid', `Cannot create ${req.subresource} in a batch: subresource creates go one per call`);
        prepared.push({ i, p: await prepareCreate(ctx, req) });
      } catch (err) {
        outcomes[i] = { error: toApiError(err) };
      }
    }),
  );
  prepared.sort((a, b) => a.i - b.i);
  const alone: Item[] = [];
  const groups = new Map<string, Item[]>();
  for (const item of prepared) {
    if (item.p.dryRun) {
      alone.push(item);
      continue;
    }
    // One transaction writes one kind (its lease, if any) under one fencing token.
    const key = `${item.p.info.kind}\u0000${tokenKey(item.p.fencing)}`;
    const group = groups.get(key) ?? [];
    group.push(item);
    groups.set(key, group);
  }
  const writes: Array<Promise<void>> = [];
  for (const group of groups.values()) {
    for (const chunk of txnChunks(group, MAX_CREATES_PER_TXN, (item) => item.p.value.byteLength)) {
      if (chunk.length === 1) alone.push(chunk[0]);
      else writes.push(writeTogether(ctx, chunk, outcomes));
    }
  }
  for (const item of alone) writes.push(writeAlone(ctx, item, outcomes));
  await Promise.all(writes);
  return outcomes;
}

function writeAlone(ctx: Context, item: Item, outcomes: CreateOutcome[]): Promise<void> {
  return answerAlone(outcomes, item.i, () => writeCreate(ctx, item.p));
}

async function eachAlone(ctx: Context, items: Item[], outcomes: CreateOutcome[]): Promise<void> {
  await Promise.all(items.map((item) => writeAlone(ctx, item, outcomes)));
}

async function writeTogether(ctx: Context, all: Item[], outcomes: CreateOutcome[]): Promise<void> {
  // The same name twice: the first is created, the second is AlreadyExists, as two creates would be.
  if (new Set(all.map(({ p }) => p.key)).size < all.length) return eachAlone(ctx, all, outcomes);
  // Each namespace is read once; the creates in one that is missing or terminating each say so on their own.
  const guards = new Map<string | undefined, Compare[] | undefined>();
  for (const { p } of all) {
    const ns = p.object.metadata?.namespace;
    if (!guards.has(ns)) guards.set(ns, await namespaceGuard(ctx, p.info, ns, p.object.metadata?.name ?? '').catch(() => undefined));
  }
  const guarded = (item: Item) => guards.get(item.p.object.metadata?.namespace) !== undefined;
  const items = all.filter(guarded);
  const refused = eachAlone(
    ctx,
    all.filter((item) => !guarded(item)),
    outcomes,
  );
  if (items.length < 2) return void (await Promise.all([refused, eachAlone(ctx, items, outcomes)]));
  const compare: Compare[] = [...guards.values()].flatMap((c) => c ?? []);
  for (const { p } of items) compare.push({ key: p.key, target: 'createRevision', result: '=', number: 0 });
  await Promise.all([refused, writeOneTxn(ctx, items, compare, outcomes)]);
}

function writeOneTxn(ctx: Context, items: Item[], compare: Compare[], outcomes: CreateOutcome[]): Promise<void> {
  const first = items[0].p;
  return writeInOneTxn(
    items,
    () =>
      withExpiry(
        ctx,
        first.info,
        (lease) => {
          const success: RequestOp[] = [];
          for (const { p } of items) success.push({ type: 'put', key: p.key, value: p.value, lease }, ...leaseFenceOps(p.info, undefined, p.object));
          return fencedTxn(ctx, { compare, success }, first.fencing, { info: first.info, name: first.object.metadata?.name ?? '' });
        },
        items.length,
      ),
    ({ p }) => ({ object: p.object, value: p.value }),
    // A name taken or a namespace changed meanwhile, a stale token, a refused transaction: each
    // create meets it again on its own, with its own answer.
    () => eachAlone(ctx, items, outcomes),
    outcomes,
  );
}
