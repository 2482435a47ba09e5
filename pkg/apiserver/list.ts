// List: every object of a resource (in one namespace or all), filtered by selectors, in pages.
// A page and all pages after it read one store revision, the list's resourceVersion, so paging
// gives a consistent snapshot; the continue token carries that revision and the next key.

import type { KindInfo, KubeObject } from '../api/registry.js';
import { ApiError, badRequest, isApiError } from './api_error.js';
import { call, resolve, type Context, type ResourceRef } from './context.js';
import { decodeStoredKv, resourcePrefix } from './objects.js';
import { parseResourceVersion } from './resource_version.js';
import { parseSelectors, type SelectorOptions } from './selectors.js';
import { prefixEnd, valueLength, type KeyValue } from '../store/mod.js';
import { storedKvBytes } from './stored_bytes.js';

export interface ListRequest extends ResourceRef, SelectorOptions {
  /** Most items in this page; 0 or absent: all (up to the server's maxListLimit). */
  limit?: number;
  /** The token of the previous page. */
  continue?: string;
  /** "" or "0": the current state; otherwise a consistent read at exactly that revision. */
  resourceVersion?: string;
  /** Read this member's replica without confirming it is up to date. @default false */
  serializable?: boolean;
}

export interface ListResult<Item = KubeObject> {
  info: KindInfo;
  items: Item[];
  /** The store revision every item was read at: start a watch from here. */
  resourceVersion: string;
  /** Present when there may be more items: pass it back to get the next page. */
  continue?: string;
  /** Objects left after this page, when no selector makes that count unknowable. */
  remainingItemCount?: number;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeToken(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: t.rv, start: Buffer.from(t.start, 'latin1').toString('base64') })).toString('base64url');
}

function decodeToken(text: string, prefix: string): ContinueToken {
  try {
    const j = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    const start = Buffer.from(String(j.start), 'base64').toString('latin1');
    if (j.v === 1 && Number.isSafeInteger(j.rv) && j.rv > 0 && start.startsWith(prefix)) return { rv: j.rv, start };
  } catch {
    // fall through to the error below
  }
  throw badRequest(`Invalid continue token ${JSON.stringify(text.length > 64 ? text.slice(0, 64) + '…' : text)}: it was not issued for this list`);
}

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to request a consistent snapshot.';

export function list(ctx: Context, req: ListRequest): Promise<ListResult> {
  return listItems(ctx, req, (info, kv, decoded) => decoded ?? decodeStoredKv(info, kv));
}

/** A list whose items are the objects' protobuf bytes, as the gRPC API sends them: an unfiltered list decodes nothing. */
export function listBytes(ctx: Context, req: ListRequest): Promise<ListResult<Buffer>> {
  return listItems(ctx, req, storedKvBytes);
}

/** `decoded` is the object when a selector needed it. */
type ToItem<Item> = (info: KindInfo, kv: KeyValue, decoded: KubeObject | undefined) => Item;

async function listItems<Item>(ctx: Context, req: ListRequest, toItem: ToItem<Item>): Promise<ListResult<Item>> {
  const info = resolve(req.resource);
  const namespace = info.namespaced ? req.namespace || undefined : undefined;
  const filter = parseSelectors(info, req);
  const limitAsked = req.limit ?? 0;
  if (!Number.isSafeInteger(limitAsked) || limitAsked < 0) throw badRequest(`Invalid limit ${JSON.stringify(req.limit)}: expected a non-negative integer`);
  const limit = limitAsked === 0 ? ctx.maxListLimit : Math.min(limitAsked, ctx.maxListLimit);
  const prefix = resourcePrefix(info, namespace);
  const end = prefixEnd(prefix);
  if (req.continue && req.resourceVersion && req.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
  const token = req.continue ? decodeToken(req.continue, prefix) : undefined;
  let rev = token?.rv ?? parseResourceVersion(req.resourceVersion);
  let start = token?.start ?? prefix;
  const items: Item[] = [];
  let pageBytes = 0;
  for (;;) {
    // An unfiltered page reads exactly what it returns and continues after its last key: the
    // store remembers how many keys follow that key at this revision, so the next page walks only
    // itself. (Continuing at the first key not returned missed that memory, and every page of a
    // 150,000-pod list counted the rest of the range.)
    const chunk = filter.everything ? Math.min(limit - items.length, ctx.listChunkKeys) : ctx.listChunkKeys;
    let r;
    try {
      // A filtered page has no use for the store's count of the range: without it, a page that
      // ends inside a chunk does not make the next one walk the rest of the range.
      const countAll = filter.everything;
      r = await call(() => ctx.backend.range({ key: start, rangeEnd: end, revision: rev, limit: chunk, countAll }, { serializable: req.serializable === true || rev !== 0 }));
    } catch (err) {
      if (token && isApiError(err, 'Expired')) throw new ApiError('Expired', CONTINUE_EXPIRED, { cause: err });
      throw err;
    }
    if (rev === 0) rev = r.header.revision;
    if (filter.everything) {
      for (let i = 0; i < r.kvs.length; i++) {
        const kv = r.kvs[i];
        items.push(toItem(info, kv, undefined));
        pageBytes += valueLength(kv);
        // Cut inside a chunk, the next page misses the store's remembered count (kept for the
        // chunk's end) and counts the rest of the range once: rare at 16 MiB a page.
        if (pageBytes >= ctx.maxListPageBytes && (r.more || i < r.kvs.length - 1)) {
          return { info, items, resourceVersion: String(rev), continue: encodeToken({ rv: rev, start: kv.key + '\0' }), remainingItemCount: r.count - i - 1 };
        }
      }
      if (!r.more || r.kvs.length === 0) return { info, items, resourceVersion: String(rev) };
      start = r.kvs[r.kvs.length - 1].key + '\0';
      if (items.length === limit) return { info, items, resourceVersion: String(rev), continue: encodeToken({ rv: rev, start }), remainingItemCount: r.count - r.kvs.length };
      continue;
    }
    for (let i = 0; i < r.kvs.length; i++) {
      const kv = r.kvs[i];
      const object = decodeStoredKv(info, kv);
      if (!filter.matches(object)) continue;
      if (items.length === limit || (items.length > 0 && pageBytes >= ctx.maxListPageBytes)) return { info, items, resourceVersion: String(rev), continue: encodeToken({ rv: rev, start: kv.key }) };
      items.push(toItem(info, kv, object));
      pageBytes += valueLength(kv);
    }
    if (!r.more || r.kvs.length === 0) return { info, items, resourceVersion: String(rev) };
    start = r.kvs[r.kvs.length - 1].key + '\0';
  }
}
