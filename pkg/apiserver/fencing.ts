// Fencing: a write may carry the token of the Lease its writer holds (holder and transition count),
// and is refused unless that Lease is still held so, checked inside the write's own store txn.
// Every Lease write keeps a small fencing key beside the object (value "<holder>/<transitions>") in
// the same txn, so a fenced write needs only one value compare on that key: no read-then-write race,
// and an old leader that wakes from a pause finds its token stale and cannot write.

import { fieldErrors, type FieldError } from '../api/field_errors.js';
import { kindByName, type KindInfo, type KubeObject, type Lease } from '../api/registry.js';
import { readValue, textToKey, type Compare, type RequestOp, type TxnRequest, type TxnResponse } from '../store/mod.js';
import { badRequest, forbidden } from './api_error.js';
import { call, type Context } from './context.js';

/** Who may write: the holder of a Lease at one transition count (client-go's leader election record). */
export interface FencingToken {
  leaseNamespace: string;
  leaseName: string;
  holderIdentity: string;
  leaseTransitions: number;
}

/** Outside /registry/, so lists and watches of leases never see the fencing keys. */
export const FENCING_PREFIX = '/navarch/fencing/leases/';

const LEASE = kindByName('Lease')!;

export function fencingKey(namespace: string, name: string): string {
  return textToKey(`${FENCING_PREFIX}${namespace}/${name}`);
}

/** The holder may contain "/"; the transitions after the last one make the value unambiguous. */
function fencingText(holder: string, transitions: number): string {
  return `${holder}/${transitions}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The token in a request: absent, or complete and well formed (else Invalid naming the field). */
export function checkFencingToken(token: unknown): FencingToken | undefined {
  if (token === undefined || token === null) return undefined;
  if (typeof token !== 'object' || Array.isArray(token)) throw badRequest('Invalid fencing token: expected an object with leaseNamespace, leaseName, holderIdentity and leaseTransitions');
  const t = token as Partial<Record<keyof FencingToken, unknown>>;
  const errors: FieldError[] = [];
  for (const f of ['leaseNamespace', 'leaseName', 'holderIdentity'] as const) {
    if (typeof t[f] !== 'string' || t[f] === '') errors.push(fieldErrors.required(`fencing.${f}`, 'expected a non-empty string'));
  }
  const n = t.leaseTransitions;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) errors.push(fieldErrors.invalid('fencing.leaseTransitions', n, 'expected a non-negative integer'));
  if (errors.length) throw badRequest(`Invalid fencing token: ${errors.map((e) => `${e.field}: ${e.detail}`).join(', ')}`, errors);
  return { leaseNamespace: t.leaseNamespace as string, leaseName: t.leaseName as string, holderIdentity: t.holderIdentity as string, leaseTransitions: n as number };
}

function leaseFence(lease: KubeObject | undefined): string | undefined {
  if (!lease) return undefined;
  const spec = (lease as Lease).spec;
  return fencingText(spec?.holderIdentity ?? '', spec?.leaseTransitions ?? 0);
}

/** A token as a map key: writes under one token may share a transaction (create_batch.ts, bind_batch.ts). */
export function tokenKey(t: FencingToken | undefined): string {
  return t ? `${t.leaseNamespace}/${t.leaseName}/${t.holderIdentity}/${t.leaseTransitions}` : '';
}

/**
 * The ops that keep a Lease's fencing key in step with the Lease, for the txn that writes it
 * (`next` undefined: the Lease is deleted). Nothing for other kinds or an unchanged holder record.
 */
export function leaseFenceOps(info: KindInfo, old: KubeObject | undefined, next: KubeObject | undefined): RequestOp[] {
  if (info !== LEASE) return [];
  const lease = next ?? old;
  const key = fencingKey(lease?.metadata?.namespace ?? '', lease?.metadata?.name ?? '');
  if (!next) return [{ type: 'deleteRange', key }];
  const value = leaseFence(next)!;
  if (old && leaseFence(old) === value) return [];
  return [{ type: 'put', key, value: encoder.encode(value) }];
}

function staleToken(info: KindInfo, name: string, t: FencingToken, current: string | undefined): Error {
  const lease = `${t.leaseNamespace}/${t.leaseName}`;
  const mine = `this writer's token (holder ${JSON.stringify(t.holderIdentity)}, transition ${t.leaseTransitions}) is stale`;
  if (current === undefined) return forbidden(info, name, `the lease ${lease} does not exist; ${mine}`);
  const slash = current.lastIndexOf('/');
  const holder = current.slice(0, slash);
  const transitions = current.slice(slash + 1);
  const held = holder === '' ? `released (transition ${transitions})` : `held by ${JSON.stringify(holder)} (transition ${transitions})`;
  return forbidden(info, name, `the lease ${lease} is ${held}; ${mine}`);
}

/**
 * Runs a write txn, fenced when a token is given: the txn also requires the token's Lease to be held
 * as the token says, and a failure for that reason throws Forbidden. Otherwise returns the response
 * as the unfenced txn would have (the fence's own failure read removed).
 */
export async function fencedTxn(ctx: Context, txn: TxnRequest, fencing: FencingToken | undefined, about: { info: KindInfo; name: string }): Promise<TxnResponse> {
  if (!fencing) return call(() => ctx.backend.txn(txn));
  const key = fencingKey(fencing.leaseNamespace, fencing.leaseName);
  const expected = fencingText(fencing.holderIdentity, fencing.leaseTransitions);
  const fence: Compare = { key, target: 'value', result: '=', value: encoder.encode(expected) };
  const failure = txn.failure ?? [];
  const r = await call(() => ctx.backend.txn({ ...txn, compare: [...(txn.compare ?? []), fence], failure: [...failure, { type: 'range', key }] }));
  if (r.succeeded) return r;
  const read = r.responses[failure.length];
  const kv = read?.type === 'range' ? read.kvs[0] : undefined;
  const current = kv ? decoder.decode(readValue(kv)) : undefined;
  if (current !== expected) throw staleToken(about.info, about.name, fencing, current);
  return { ...r, responses: r.responses.slice(0, failure.length) };
}
