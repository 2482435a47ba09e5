// Range reads at a revision, with etcd's limit, count, sort and filter rules.

import { CompactedError, FutureRevisionError, invalidArgument } from './errors.js';
import type { Keyspace, Version } from './keyspace.js';
import type { KeyValue, RangeRequest, RangeResponse } from './types.js';

/** The revision a read at `requested` (0 = current) uses; throws when it is compacted or in the future. */
export function readRevision(ks: Keyspace, requested: number | undefined): number {
  const rev = requested ?? 0;
  if (!Number.isSafeInteger(rev) || rev < 0) throw invalidArgument(`Invalid revision ${JSON.stringify(rev)}: expected a non-negative integer`);
  if (rev === 0) return ks.revision;
  if (rev > ks.revision) throw new FutureRevisionError(rev, ks.revision);
  if (rev < ks.compactRevision) throw new CompactedError(rev, ks.compactRevision);
  return rev;
}

export function checkRangeRequest(r: RangeRequest): void {
  if (typeof r.key !== 'string' || r.key.length === 0) throw invalidArgument('Invalid range: key is not provided');
  if (r.limit !== undefined && (!Number.isSafeInteger(r.limit) || r.limit < 0)) throw invalidArgument(`Invalid range limit ${JSON.stringify(r.limit)}: expected a non-negative integer`);
}

function keysOnly(v: KeyValue): KeyValue {
  return { key: v.key, value: new Uint8Array(0), createRevision: v.createRevision, modRevision: v.modRevision, version: v.version, lease: v.lease };
}

// Values compare as their latin1 strings (Version.data): one char per byte, so string order is
// byte order, and no comparison copies a value out.
const SORTERS: Record<string, (a: Version, b: Version) => number> = {
  key: (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  version: (a, b) => a.version - b.version,
  create: (a, b) => a.createRevision - b.createRevision,
  mod: (a, b) => a.modRevision - b.modRevision,
  value: (a, b) => (a.data < b.data ? -1 : a.data > b.data ? 1 : 0),
};

/**
 * Reads (key, rangeEnd) at `rev` (already validated). `count` is every key in
 * the range; kvs are cut to `limit` after filters and sort, `more` says so.
 */
export function rangeAt(ks: Keyspace, r: RangeRequest, rev: number): Omit<RangeResponse, 'header'> {
  const limit = r.limit ?? 0;
  const target = r.sortTarget ?? 'key';
  let order = r.sortOrder ?? 'none';
  // etcd: a non-key target without an order sorts ascending; key ascending is the natural order.
  if (order === 'none' && target !== 'key') order = 'ascend';
  const sorts = order !== 'none' && !(target === 'key' && order === 'ascend');
  const filters = !!(r.minModRevision || r.maxModRevision || r.minCreateRevision || r.maxCreateRevision);
  const collectAll = sorts || filters;
  let kvs: Version[] = [];
  let count = 0;
  // A paged read continuing where the last page ended (key = last key + '\0', same
  // revision and end) knows its count from that page: the data at a revision
  // never changes, so only the page itself is walked, not the rest of the range.
  const paged = !collectAll && limit > 0 && !r.countOnly;
  const pageKey = paged && r.countAll !== false ? `${rev}:${(r.rangeEnd ?? '').length}:${r.rangeEnd ?? ''}${r.key}` : undefined;
  const known = pageKey === undefined ? undefined : ks.pageCounts.get(pageKey);
  if (known !== undefined || (paged && r.countAll === false)) {
    ks.forEachLive(r.key, r.rangeEnd, rev, (v) => {
      kvs.push(v);
      return kvs.length <= limit;
    });
    count = known ?? kvs.length;
  } else {
    // Past the page, only count (etcd's count is every key in the range).
    const cap = r.countOnly ? 0 : collectAll || limit === 0 ? Infinity : limit + 1;
    ks.forEachLive(r.key, r.rangeEnd, rev, (v) => {
      if (count++ < cap) kvs.push(v);
    });
  }
  if (pageKey !== undefined && kvs.length > limit) {
    const next = kvs[limit - 1].key + '\0';
    ks.rememberPageCount(`${rev}:${(r.rangeEnd ?? '').length}:${r.rangeEnd ?? ''}${next}`, count - limit);
  }
  if (r.countOnly) return { kvs: [], count, more: false };
  if (filters) {
    kvs = kvs.filter(
      (v) =>
        (!r.minModRevision || v.modRevision >= r.minModRevision) &&
        (!r.maxModRevision || v.modRevision <= r.maxModRevision) &&
        (!r.minCreateRevision || v.createRevision >= r.minCreateRevision) &&
        (!r.maxCreateRevision || v.createRevision <= r.maxCreateRevision),
    );
  }
  if (sorts) {
    const cmp = SORTERS[target];
    if (!cmp) throw invalidArgument(`Invalid sort target ${JSON.stringify(target)}: expected key, version, create, mod or value`);
    kvs.sort(order === 'descend' ? (a, b) => cmp(b, a) : cmp);
  }
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  return { kvs: r.keysOnly ? kvs.map(keysOnly) : kvs, count, more };
}
