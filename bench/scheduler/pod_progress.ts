// What the bench's watch reads of a pod: its name, node and phase, straight from the protobuf bytes.
// The bench shares the machine's two cores with the cluster it measures; decoding whole pods, three
// events each, took most of its own CPU.

import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { Pod } from '../../pkg/api/registry.js';

/** Field numbers in proto/navarch/api/v1 (core.proto's Pod, PodSpec, PodStatus; meta.proto's ObjectMeta). */
const POD_METADATA = 3;
const POD_SPEC = 4;
const POD_STATUS = 5;
const META_NAME = 1;
const META_NAMESPACE = 3;
const META_RESOURCE_VERSION = 6;
const SPEC_NODE_NAME = 12;
const STATUS_PHASE = 1;

/** Reads the string fields `want` names from the message of `len` bytes at the reader's position. */
function strings(r: BinaryReader, len: number, want: ReadonlySet<number>, into: Map<number, string>): void {
  const end = r.pos + len;
  while (r.pos < end) {
    const [field, wire] = r.tag();
    if (wire === WireType.LengthDelimited && want.has(field)) into.set(field, r.string());
    else r.skip(wire, field);
  }
}

const META_FIELDS = new Set([META_NAME, META_NAMESPACE, META_RESOURCE_VERSION]);
const SPEC_FIELDS = new Set([SPEC_NODE_NAME]);
const STATUS_FIELDS = new Set([STATUS_PHASE]);

/** A Pod holding only metadata name, namespace and resourceVersion, spec.nodeName and status.phase. */
export function decodePodProgress(bytes: Uint8Array): Pod {
  const r = new BinaryReader(bytes);
  const meta = new Map<number, string>();
  const spec = new Map<number, string>();
  const status = new Map<number, string>();
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (wire !== WireType.LengthDelimited || (field !== POD_METADATA && field !== POD_SPEC && field !== POD_STATUS)) {
      r.skip(wire, field);
      continue;
    }
    const len = r.uint32();
    if (field === POD_METADATA) strings(r, len, META_FIELDS, meta);
    else if (field === POD_SPEC) strings(r, len, SPEC_FIELDS, spec);
    else strings(r, len, STATUS_FIELDS, status);
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: meta.get(META_NAME), namespace: meta.get(META_NAMESPACE), resourceVersion: meta.get(META_RESOURCE_VERSION) },
    spec: { nodeName: spec.get(SPEC_NODE_NAME) },
    status: { phase: status.get(STATUS_PHASE) },
  } as Pod;
}
