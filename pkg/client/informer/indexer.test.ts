import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { pod as podObject } from '../../apiserver/test_util.js';
import { Indexer, NAMESPACE_INDEX } from './indexer.js';
import { splitKey } from './keys.js';

const pod = (name: string, rv: string, o: { namespace?: string; nodeName?: string } = {}) => {
  const p = podObject(name, o) as Pod;
  p.metadata!.resourceVersion = rv;
  return p;
};
const byNode = (p: Pod) => (p.spec?.nodeName ? [p.spec.nodeName] : []);
const names = (ps: Pod[]) => ps.map((p) => p.metadata?.name).sort();

describe('Indexer', () => {
  it('keys objects by namespace/name, and cluster-scoped ones by name', () => {
    const idx = new Indexer<Pod>();
    idx.upsert(pod('a', '1'));
    idx.upsert(pod('a', '2', { namespace: 'other' }));
    assert.deepEqual(idx.listKeys().sort(), ['default/a', 'other/a']);
    assert.equal(idx.get('other', 'a')?.metadata?.resourceVersion, '2');
    assert.deepEqual(splitKey('default/a'), ['default', 'a']);
    assert.deepEqual(splitKey('node-1'), ['', 'node-1']);
    assert.throws(() => idx.upsert({ apiVersion: 'v1', kind: 'Pod', metadata: {} } as Pod), /Cannot key a Pod without metadata.name/);
  });

  it('replace reports added, changed (by resourceVersion) and removed objects', () => {
    const idx = new Indexer<Pod>({ byNode });
    idx.replace([pod('same', '1', { nodeName: 'n1' }), pod('changed', '2', { nodeName: 'n1' }), pod('gone', '3', { nodeName: 'n2' })]);
    const diff = idx.replace([pod('same', '1', { nodeName: 'n1' }), pod('changed', '5', { nodeName: 'n3' }), pod('new', '6')]);
    assert.deepEqual(names(diff.added), ['new']);
    assert.deepEqual(diff.updated.map(([o, n]) => `${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`), ['2->5']);
    assert.deepEqual(names(diff.deleted), ['gone']);
    assert.deepEqual(names(idx.byIndex('byNode', 'n1')), ['same']);
    assert.deepEqual(names(idx.byIndex('byNode', 'n3')), ['changed']);
    assert.deepEqual(idx.indexValues('byNode').sort(), ['n1', 'n3']);
  });

  it('updates move an object between index values only when its values change, and the index serves the newest object', () => {
    const idx = new Indexer<Pod>({ byNode });
    idx.upsert(pod('a', '1'));
    idx.upsert(pod('b', '2', { nodeName: 'n1' }));
    idx.upsert(pod('a', '3', { nodeName: 'n1' }));
    assert.deepEqual(names(idx.byIndex('byNode', 'n1')), ['a', 'b']);
    idx.upsert(pod('a', '4', { nodeName: 'n1' }));
    assert.deepEqual(idx.byIndex('byNode', 'n1').map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`).sort(), ['a@4', 'b@2']);
    idx.upsert(pod('b', '5', { nodeName: 'n2' }));
    idx.upsert(pod('a', '6'));
    assert.deepEqual(idx.indexValues('byNode'), ['n2'], 'an emptied value is gone');
    assert.deepEqual(idx.indexKeys(NAMESPACE_INDEX, 'default').sort(), ['default/a', 'default/b']);
  });

  it('fills an index added later from what it holds, and refuses a duplicate name', () => {
    const idx = new Indexer<Pod>();
    idx.upsert(pod('a', '1', { nodeName: 'n1' }));
    idx.upsert(pod('b', '1', { namespace: 'kube-system', nodeName: 'n1' }));
    idx.addIndexers({ byNode });
    assert.deepEqual(names(idx.byIndex('byNode', 'n1')), ['a', 'b']);
    assert.deepEqual(idx.indexKeys(NAMESPACE_INDEX, 'kube-system'), ['kube-system/b']);
    assert.throws(() => idx.addIndexers({ byNode }), /Cannot add index "byNode": an index with that name exists/);
  });

  it('keeps an object whose index function throws, out of that index only, and reports it', () => {
    const errors: string[] = [];
    const idx = new Indexer<Pod>({ picky: (p) => (p.metadata?.name === 'bad' ? assert.fail('no') : ['ok']) }, (index, key) => errors.push(`${index} ${key}`));
    idx.upsert(pod('bad', '1'));
    idx.upsert(pod('good', '1'));
    assert.equal(idx.size, 2);
    assert.deepEqual(idx.indexKeys('picky', 'ok'), ['default/good']);
    assert.deepEqual(errors, ['picky default/bad']);
    idx.remove('default/bad');
    assert.equal(idx.size, 1);
  });
});
