// Bad requests to the etcd v3 facade on the same port. Bytes that do not decode get
// INVALID_ARGUMENT naming the method and the decode problem (etcd's grpc-go answers a bare Internal
// "error unmarshalling request"; ours says what is wrong). Bad values get etcd's own messages and codes: INVALID_ARGUMENT for
// missing keys, bad limits, bad compares and duplicate keys in a txn; NOT_FOUND for missing leases;
// OUT_OF_RANGE for future and compacted revisions; INVALID_ARGUMENT "etcdserver: request is too
// large" for writes over 1.5 MiB, RESOURCE_EXHAUSTED for messages over 2 MiB.

import type { MethodDefinition } from '@grpc/grpc-js';
import type { SeededRandom } from '../../raft/core/random.js';
import { malformedRequest } from '../../pkg/etcdserver/malformed.js';
import { loadEtcdApi, type EtcdServiceName } from '../../pkg/etcdserver/proto.js';
import { Code, type BadCase, type Fixture, pick, token } from './bad_case.js';
import { breakMessage, type Breakage } from './protobuf_bytes.js';

type Msg = Record<string, unknown>;

function def(service: EtcdServiceName, method: string): MethodDefinition<Msg, Msg> {
  return loadEtcdApi().services[service][method] as unknown as MethodDefinition<Msg, Msg>;
}

function call(category: string, service: EtcdServiceName, method: string, request: Msg, codes: Code[], message: string): BadCase {
  const d = def(service, method);
  return { category: `etcd/${category}`, path: d.path, body: d.requestSerialize(request), codes, message };
}

const UNARY: Array<[EtcdServiceName, string, Msg]> = [
  ['KV', 'Range', { key: Buffer.from('shop/a'), range_end: Buffer.from('shop/z'), limit: 10 }],
  ['KV', 'Put', { key: Buffer.from('shop/never'), value: Buffer.from('written') }],
  ['KV', 'DeleteRange', { key: Buffer.from('shop/never') }],
  ['KV', 'Txn', { compare: [{ key: Buffer.from('k'), target: 0, result: 0, version: 1 }], success: [{ request_put: { key: Buffer.from('shop/never'), value: Buffer.from('v') } }] }],
  ['KV', 'Compact', { revision: 1 }],
  ['Lease', 'LeaseGrant', { TTL: 60 }],
  ['Lease', 'LeaseRevoke', { ID: 7 }],
  ['Lease', 'LeaseTimeToLive', { ID: 7, keys: true }],
  ['Maintenance', 'Status', {}],
  ['Cluster', 'MemberList', {}],
  // A bidirectional stream: the bad message is the first one sent.
  ['Watch', 'Watch', { create_request: { key: Buffer.from('shop/'), range_end: Buffer.from('shop0'), start_revision: 5 } }],
];

const key = (s: string): Buffer => Buffer.from(s);

export function badEtcdRequest(r: SeededRandom, f: Fixture): BadCase {
  const k = key(`bad/${token(r, 8)}`);
  switch (r.intn(6)) {
    case 0:
    case 1: {
      const [service, method, valid] = pick(r, UNARY);
      const d = def(service, method);
      const how = pick<Breakage>(r, ['truncated', 'wire type', 'huge length']);
      const decodes = (b: Buffer): boolean => {
        try {
          // The facade's deserializer never throws: it marks what it could not decode.
          return malformedRequest(d.requestDeserialize(b)) === undefined;
        } catch {
          return false;
        }
      };
      const body = breakMessage(r, d.requestSerialize(valid), how, decodes);
      return { category: `etcd/malformed: ${how}`, path: d.path, body, stream: d.responseStream, codes: [Code.INVALID_ARGUMENT], message: `Cannot decode the ${service}.${method} request as ` };
    }
    case 2:
      return pick(r, [
        call('bad range', 'KV', 'Range', { key: Buffer.alloc(0) }, [Code.INVALID_ARGUMENT], 'etcdserver: key is not provided'),
        call('bad range', 'KV', 'Range', { key: k, limit: -1 - r.intn(100) }, [Code.INVALID_ARGUMENT], 'etcdserver: Invalid range limit'),
        call('bad range', 'KV', 'Range', { key: k, sort_order: 3 + r.intn(10) }, [Code.INVALID_ARGUMENT], 'etcdserver: invalid sort order'),
        call('bad range', 'KV', 'DeleteRange', { key: Buffer.alloc(0) }, [Code.INVALID_ARGUMENT], 'etcdserver: key is not provided'),
        call('bad range', 'KV', 'Put', { key: Buffer.alloc(0), value: key('v') }, [Code.INVALID_ARGUMENT], 'etcdserver: key is not provided'),
      ]);
    case 3:
      return pick(r, [
        call('revision out of range', 'KV', 'Range', { key: k, revision: 1e9 + r.intn(1e6) }, [Code.OUT_OF_RANGE], 'etcdserver: mvcc: required revision is a future revision'),
        call('revision out of range', 'KV', 'Range', { key: k, revision: 1 + r.intn(f.compactedRevision - 1) }, [Code.OUT_OF_RANGE], 'etcdserver: mvcc: required revision has been compacted'),
        call('revision out of range', 'KV', 'Compact', { revision: 1e9 + r.intn(1e6) }, [Code.OUT_OF_RANGE], 'etcdserver: mvcc: required revision is a future revision'),
        call('revision out of range', 'KV', 'Compact', { revision: 1 + r.intn(f.compactedRevision - 1) }, [Code.OUT_OF_RANGE], 'etcdserver: mvcc: required revision has been compacted'),
      ]);
    case 4:
      return pick(r, [
        call('bad txn', 'KV', 'Txn', { compare: [{ key: k, target: 5 + r.intn(20), result: 0, version: 1 }] }, [Code.INVALID_ARGUMENT], 'etcdserver: invalid compare target'),
        call('bad txn', 'KV', 'Txn', { compare: [{ key: k, target: 0, result: 4 + r.intn(20), version: 1 }] }, [Code.INVALID_ARGUMENT], 'etcdserver: invalid compare result'),
        call('bad txn', 'KV', 'Txn', { compare: [{ key: Buffer.alloc(0), target: 0, result: 0, version: 1 }] }, [Code.INVALID_ARGUMENT], 'etcdserver: key is not provided'),
        call(
          'bad txn',
          'KV',
          'Txn',
          { success: [{ request_put: { key: k, value: key('1') } }, { request_put: { key: k, value: key('2') } }] },
          [Code.INVALID_ARGUMENT],
          'etcdserver: duplicate key given in txn request',
        ),
      ]);
    default: {
      const id = f.missingLeaseId + r.intn(1000);
      return pick(r, [
        call('missing lease', 'Lease', 'LeaseRevoke', { ID: id }, [Code.NOT_FOUND], 'etcdserver: requested lease not found'),
        call('missing lease', 'KV', 'Put', { key: k, value: key('v'), lease: id }, [Code.NOT_FOUND], 'etcdserver: requested lease not found'),
        call('bad lease', 'Lease', 'LeaseGrant', { TTL: -1 - r.intn(100) }, [Code.INVALID_ARGUMENT], 'etcdserver: Invalid lease TTL'),
      ]);
    }
  }
}

/** Keys and values past the 2 MiB message limit (Range too: the limit is on any request). Megabytes each: send few. */
export function hugeEtcdRequest(r: SeededRandom): BadCase {
  const k = key(`bad/${token(r, 8)}`);
  const huge = Buffer.alloc(2 * 1024 * 1024 + 1 + r.intn(4096), 0x61);
  return pick(r, [
    call('huge key', 'KV', 'Put', { key: huge, value: key('v') }, [Code.RESOURCE_EXHAUSTED], 'larger than max'),
    call('huge key', 'KV', 'Range', { key: huge }, [Code.RESOURCE_EXHAUSTED], 'larger than max'),
    call('huge key', 'KV', 'Put', { key: k, value: huge }, [Code.RESOURCE_EXHAUSTED], 'larger than max'),
    // Under the message limit but over etcd's --max-request-bytes (1.5 MiB).
    call('too large write', 'KV', 'Put', { key: k, value: Buffer.alloc(1.5 * 1024 * 1024 + 1 + r.intn(4096), 0x62) }, [Code.INVALID_ARGUMENT], 'etcdserver: request is too large'),
  ]);
}
