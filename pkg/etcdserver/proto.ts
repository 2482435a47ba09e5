// etcd v3's API, loaded at run time from the .proto files Debian's
// golang-etcd-server-dev ships (never copied into this repo), turned into
// grpc-js service definitions. Messages are plain objects: int64 as number,
// bytes as Buffer, enums as numbers, every field present (defaults).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { safeDeserialize } from './malformed.js';

const GOCODE = process.env.NAVARCH_GOCODE_DIR ?? '/usr/share/gocode/src';

/** Where each import prefix lives, and which Debian package brings it. */
const ROOTS: Array<{ prefix: string; dir: string; pkg: string }> = [
  { prefix: 'etcd/', dir: join(GOCODE, 'go.etcd.io/etcd'), pkg: 'golang-etcd-server-dev' },
  { prefix: 'gogoproto/', dir: join(GOCODE, 'github.com/gogo/protobuf/gogoproto'), pkg: 'golang-github-gogo-protobuf-dev' },
  { prefix: 'google/api/', dir: join(GOCODE, 'github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis/google/api'), pkg: 'golang-github-grpc-ecosystem-grpc-gateway-dev' },
  { prefix: 'google/protobuf/', dir: join(GOCODE, 'github.com/gogo/protobuf/protobuf/google/protobuf'), pkg: 'golang-github-gogo-protobuf-dev' },
];

const RPC_PROTO = 'etcd/etcdserver/etcdserverpb/rpc.proto';

function resolveImport(target: string): string {
  for (const r of ROOTS) {
    if (!target.startsWith(r.prefix)) continue;
    const file = join(r.dir, target.slice(r.prefix.length));
    if (!existsSync(file)) throw new Error(`Cannot load etcd's API: "${file}" is missing; install the Debian package ${r.pkg}`);
    return file;
  }
  throw new Error(`Cannot load etcd's API: no include directory for import "${target}"`);
}

export type EtcdServiceName = 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth';

export interface EtcdApi {
  root: protobuf.Root;
  services: Record<EtcdServiceName, ServiceDefinition>;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, bytes: Buffer, enums: Number, defaults: true, arrays: true };

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function methodDefinition(service: string, m: protobuf.Method, root: protobuf.Root): MethodDefinition<object, object> {
  const req = root.lookupType(m.requestType);
  const res = root.lookupType(m.responseType);
  return {
    path: `/etcdserverpb.${service}/${m.name}`,
    requestStream: !!m.requestStream,
    responseStream: !!m.responseStream,
    requestSerialize: (o: object) => Buffer.from(req.encode(req.fromObject(o)).finish()),
    // Never throws: a request that does not decode reaches the handler as a marker (see malformed.ts).
    requestDeserialize: safeDeserialize(service, m.name, req.fullName.replace(/^\./, ''), (b: Buffer) => req.toObject(req.decode(b), TO_OBJECT)),
    // Our responses are built with the right field types already (numbers, Buffers, plain nested
    // objects), so they skip fromObject's copy; finish() hands back a Buffer under Node.
    responseSerialize: (o: object) => asBuffer(res.encode(o).finish()),
    responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), TO_OBJECT),
    originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
  };
}

let cached: EtcdApi | undefined;

/** Loads etcd's rpc.proto once. Throws naming the missing file and its Debian package. */
export function loadEtcdApi(): EtcdApi {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : resolveImport(target));
  root.loadSync(RPC_PROTO, { keepCase: true });
  root.resolveAll();
  const services = {} as Record<EtcdServiceName, ServiceDefinition>;
  for (const name of ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'] as const) {
    const svc = root.lookupService(`etcdserverpb.${name}`);
    const def: Record<string, MethodDefinition<object, object>> = {};
    for (const m of svc.methodsArray) def[m.name] = methodDefinition(name, m, root);
    services[name] = def as ServiceDefinition;
  }
  cached = { root, services };
  return cached;
}
