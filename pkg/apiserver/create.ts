// Create: the server sets uid, creationTimestamp, generation 1 (workload kinds) and resourceVersion (the store
// revision of the write), fills generateName, defaults and validates, then writes with a txn that
// requires the key to be absent and the namespace to be as read.

import { applyDefaults } from '../api/defaults/defaults.js';
import type { KindInfo, KubeObject } from '../api/registry.js';
import type { KeyValue } from '../store/mod.js';
import { validateObject } from '../api/validation/validate.js';
import { alreadyExists, ApiError, badRequest, conflict, invalid } from './api_error.js';
import { call, resolve, type Context, type ResourceRef } from './context.js';
import { withExpiry } from './event_ttl.js';
import { checkFencingToken, fencedTxn, leaseFenceOps, type FencingToken } from './fencing.js';
import { clone, decodeStoredKv, emptyMeta, encodeStored, formatTime, objectKey } from './objects.js';
import { rememberStored } from './object_bytes.js';
import { admission } from './pod_priority.js';
import { addDefaultTolerations } from './default_tolerations.js';
import { prepareNamespaceForCreate } from './namespace_strategy.js';
import { preparePodForCreate } from './pod_qos_status.js';
import { checkSize, kindOfBody, namespaceGuard } from './write_checks.js';

export interface CreateRequest extends Partial<ResourceRef> {
  object: KubeObject;
  /** "eviction": the object is a policy/v1 Eviction of the pod `name` (pods/{name}/eviction). */
  subresource?: string;
  /** The parent object's name, for a subresource create. */
  name?: string;
  /** Validate and default, but write nothing. */
  dryRun?: boolean;
  /** Write only while this Lease is held as the token says (else Forbidden). */
  fencing?: FencingToken;
  /** `object` was decoded for this request alone (from the wire): it is filled in place, not copied first. */
  objectOwned?: boolean;
}

/** 63, a DNS label's limit, less the 5 characters of the random suffix. */
const MAX_GENERATED_PREFIX_LENGTH = 58;

/** As Kubernetes: an object still there only because it is being deleted says so. */
function alreadyExistsError(info: KindInfo, name: string, kv: KeyValue | undefined): ApiError {
  const err = alreadyExists(info, name);
  let deleting = false;
  try {
    deleting = kv !== undefined && !!decodeStoredKv(info, kv).metadata?.deletionTimestamp;
  } catch {
    // Undecodable: say what is known.
  }
  return deleting ? new ApiError('AlreadyExists', `object is being deleted: ${err.message}`, err.details) : err;
}

/** A create checked and encoded, ready to be written (see writeCreate and createBatch). */
export interface PreparedCreate {
  info: KindInfo;
  object: KubeObject;
  key: string;
  value: Uint8Array;
  dryRun: boolean;
  fencing: FencingToken | undefined;
}

export function create(ctx: Context, req: CreateRequest): Promise<KubeObject> {
  return runCreate(ctx, req);
}

/** Everything a create decides before it writes: the server's fields, defaults, admission, size and validation. */
export async function prepareCreate(ctx: Context, req: CreateRequest): Promise<PreparedCreate> {
  const p = prepareObject(ctx, req);
  await admission(p.info, p.object)?.(ctx);
  return sealCreate(ctx, p);
}

/** The object with the server's fields and defaults, before admission. */
function prepareObject(ctx: Context, req: CreateRequest): PreparedCreate {
  const info = kindOfBody(req.resource === undefined ? undefined : resolve(req.resource), req.object);
  const fencing = checkFencingToken(req.fencing);
  const o = req.objectOwned ? req.object : clone(req.object);
  const meta = (o.metadata ??= emptyMeta());
  if (meta.resourceVersion) throw badRequest(`Cannot create ${info.resource}: resourceVersion should not be set on objects to be created`);
  if (req.name && meta.name && req.name !== meta.name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${req.name})`);
  if (info.namespaced) {
    if (req.namespace && meta.namespace && req.namespace !== meta.namespace) {
      throw badRequest(`Cannot create ${info.resource}: the namespace of the object (${JSON.stringify(meta.namespace)}) does not match the namespace of the request (${JSON.stringify(req.namespace)})`);
    }
    meta.namespace ||= req.namespace || 'default';
  } else if (meta.namespace === '') {
    meta.namespace = undefined;
  }
  // As Kubernetes' SimpleNameGenerator: the prefix is cut to 58 characters, so name and suffix fit in 63.
  if (!meta.name && meta.generateName) meta.name = meta.generateName.slice(0, MAX_GENERATED_PREFIX_LENGTH) + ctx.randomSuffix();
  meta.uid = ctx.newUid();
  meta.creationTimestamp = formatTime(ctx.nowMs());
  // As Kubernetes: only the kinds whose strategy tracks spec changes have a generation.
  meta.generation = info.hasGeneration ? 1 : undefined;
  meta.deletionTimestamp = undefined;
  meta.deletionGracePeriodSeconds = undefined;
  meta.selfLink = undefined;
  // As Kubernetes' strategies: the status is the server's and its controllers', not the creator's
  // (an exported manifest would otherwise show replicas that do not exist). A Node registers with
  // its status; a Pod's and a Namespace's are set below.
  if (info.hasStatus && info.kind !== 'Node' && info.kind !== 'Pod') (o as { status?: unknown }).status = undefined;
  applyDefaults(o);
  preparePodForCreate(info, o);
  prepareNamespaceForCreate(info, o);
  addDefaultTolerations(info, o, ctx.defaultTolerationSeconds);
  return { info, object: o, key: '', value: EMPTY, dryRun: req.dryRun ?? false, fencing };
}

/** Encodes and validates the admitted object. */
function sealCreate(ctx: Context, p: PreparedCreate): PreparedCreate {
  const { info, object: o } = p;
  const meta = o.metadata!;
  const name = meta.name ?? '';
  // Size first: validating a huge object is wasted work.
  const value = encodeStored(o);
  checkSize(ctx, info, name, value);
  const errors = validateObject(o);
  if (errors.length) throw invalid(info, name, errors);
  return { ...p, key: objectKey(info, meta.namespace, name), value };
}

const EMPTY = new Uint8Array(0);

/** Writes a prepared create on its own: the key must be absent and the namespace as read. */
export function writeCreate(ctx: Context, p: PreparedCreate): Promise<KubeObject> {
  return runCreate(ctx, undefined, p);
}

/**
 * One async function for both: a create takes the event-loop turns it took before batches existed,
 * so its caller has the answer before an informer in the same process has the watch event (tests
 * count on that order).
 */
async function runCreate(ctx: Context, req: CreateRequest | undefined, prepared?: PreparedCreate): Promise<KubeObject> {
  let p = prepared;
  if (!p) {
    p = prepareObject(ctx, req!);
    await admission(p.info, p.object)?.(ctx);
    p = sealCreate(ctx, p);
  }
  const { info, object: o, key, value, fencing } = p;
  const meta = o.metadata!;
  const name = meta.name ?? '';
  for (let attempt = 0; ; attempt++) {
    const nsCompare = await namespaceGuard(ctx, info, meta.namespace, name);
    if (p.dryRun) {
      const existing = await call(() => ctx.backend.range({ key, countOnly: true }));
      if (existing.count > 0) throw alreadyExists(info, name);
      return o;
    }
    const r = await withExpiry(ctx, info, (lease) =>
      fencedTxn(
        ctx,
        {
          compare: [{ key, target: 'createRevision', result: '=', number: 0 }, ...nsCompare],
          success: [{ type: 'put', key, value, lease }, ...leaseFenceOps(info, undefined, o)],
          failure: [{ type: 'range', key }],
        },
        fencing,
        { info, name },
      ),
    );
    if (r.succeeded) {
      meta.resourceVersion = String(r.header.revision);
      rememberStored(o, value, r.header.revision);
      return o;
    }
    const existing = r.responses[0];
    if (existing?.type === 'range' && existing.count > 0) throw alreadyExistsError(info, name, existing.kvs[0]);
    // The namespace changed between the read and the write: check it again.
    if (attempt >= ctx.maxConflictRetries) throw conflict(info, name, `namespace ${JSON.stringify(meta.namespace)} kept changing during the create; try again`);
  }
}
