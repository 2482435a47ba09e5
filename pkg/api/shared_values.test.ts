import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kindByName } from './registry.js';
import { decodeBinary, encodeBinary } from './convert/binary.js';
import { decodeObject } from './convert/object.js';
import { deepCopy } from './deep_copy.js';
import { EMPTY_LIST, EMPTY_MAP, StringTable, shareField, shareValues } from './shared_values.js';
import type { Pod } from '../../gen/navarch/api/v1/core.js';

function pod(name: string, nodeName = 'node-1'): unknown {
  return decodeObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'team-a', labels: { app: 'web' } },
    spec: { nodeName, containers: [{ name: 'c', image: 'registry.example/web:1', command: ['httpd', '-f'] }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  }).object;
}

describe('shareValues', () => {
  it('leaves an object equal to what it was, bytes and all', () => {
    const info = kindByName('Pod');
    const decoded = decodeBinary(info, encodeBinary(pod('a') as never));
    const before = encodeBinary(decoded);
    const shared = shareValues(structuredClone(decoded), new StringTable());
    assert.deepEqual(shared, decoded);
    assert.deepEqual(encodeBinary(shared), before);
  });

  it("keeps one entry per distinct string, but none for an object's own name, uid and resourceVersion", () => {
    const table = new StringTable();
    const info = kindByName('Pod');
    shareValues(decodeBinary(info, encodeBinary(pod('pod-a') as never)), table);
    const afterFirst = table.size;
    assert.ok(afterFirst >= 8, `size ${afterFirst}`);
    const b = shareValues(decodeBinary(info, encodeBinary(pod('pod-b', 'node-2') as never)), table);
    assert.equal(table.size, afterFirst + 1, 'only the new node name');
    assert.equal(b.metadata!.name, 'pod-b');
    table.intern('pod-a');
    assert.equal(table.size, afterFirst + 2, 'pod-a was not in the table');
  });

  it("keeps no entry for a pod's IPs and its containers' IDs, but one for its node's IP", () => {
    const table = new StringTable();
    const info = kindByName('Pod');
    const running = (name: string, ip: string, id: string) => {
      const p = pod(name) as Pod;
      p.status = { ...p.status!, hostIP: '10.1.0.1', podIP: ip, podIPs: [{ ip }], containerStatuses: [{ name: 'c', image: 'web:1', containerID: id } as never] };
      return decodeBinary(info, encodeBinary(p as never));
    };
    shareValues(running('pod-a', '10.2.0.1', 'containerd://aaa'), table);
    const afterFirst = table.size;
    const b = shareValues(running('pod-b', '10.2.0.2', 'containerd://bbb'), table) as Pod;
    assert.equal(table.size, afterFirst, 'nothing new: the IPs and IDs are the pod\'s own');
    assert.equal(b.status!.podIP, '10.2.0.2');
    assert.deepEqual(b.status!.podIPs, [{ ip: '10.2.0.2' }]);
    assert.equal(b.status!.containerStatuses[0].containerID, 'containerd://bbb');
    for (const own of ['10.2.0.2', 'containerd://bbb']) {
      const before = table.size;
      table.intern(own);
      assert.equal(table.size, before + 1, `${own} was not in the table`);
    }
    const before = table.size;
    table.intern('10.1.0.1');
    assert.equal(table.size, before, 'the host IP was');
    const status = shareField('status', (running('pod-c', '10.2.0.3', 'containerd://ccc') as Pod).status, table);
    assert.equal(table.size, before, 'a status shared alone leaves them out too');
    assert.equal(status!.podIP, '10.2.0.3');
  });

  it('stays bounded: a full table starts over instead of growing', () => {
    const table = new StringTable(100);
    for (let i = 0; i < 1000; i++) table.intern(`uid-${i}`);
    assert.ok(table.size <= 100, `size ${table.size}`);
    assert.equal(table.intern('x'.repeat(65)).length, 65);
  });

  it('gives every cached object the same frozen empty lists and maps; a deepCopy of one can be filled', () => {
    const info = kindByName('Pod');
    const a = shareValues(decodeBinary(info, encodeBinary(pod('pod-a') as never)), new StringTable()) as Pod;
    const b = shareValues(decodeBinary(info, encodeBinary(pod('pod-b') as never)), new StringTable()) as Pod;
    assert.equal(a.spec!.tolerations, EMPTY_LIST);
    assert.equal(b.spec!.volumes, EMPTY_LIST);
    assert.equal(a.metadata!.annotations, EMPTY_MAP);
    assert.throws(() => a.spec!.tolerations.push({ key: 'k' } as never), TypeError);
    assert.deepEqual(a.spec!.containers[0].command, ['httpd', '-f']);
    const copy = deepCopy(a);
    copy.spec!.tolerations.push({ key: 'k' } as never);
    copy.metadata!.annotations!.note = 'x';
    assert.deepEqual(copy.spec!.volumes, []);
    assert.deepEqual(copy.metadata!.labels, { app: 'web' });
    assert.deepEqual(b.spec!.tolerations, []);
  });

  it('leaves bytes, numbers and booleans alone', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const o = shareValues({ data: bytes, n: 3, b: true, nested: [{ s: 'x' }] }, new StringTable());
    assert.equal(o.data, bytes);
    assert.deepEqual(o, { data: bytes, n: 3, b: true, nested: [{ s: 'x' }] });
  });
});
