import assert from "node:assert/strict";
import { test } from "node:test";
import { makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { PodCountCache, type PodCountQuery } from "./pod_count_cache.js";
import { PodInfo } from "./pod_info.js";

function appQuery(app: string, includeEmptyDomains = false): PodCountQuery {
  return { key: `app=${app}|${includeEmptyDomains}`, topologyKey: "zone", matches: (p) => p.labels.app === app, includeEmptyDomains };
}

function setup() {
  const snap = makeSnapshot(
    [makeNode({ name: "a", labels: { zone: "z1" } }), makeNode({ name: "b", labels: { zone: "z2" } }), makeNode({ name: "c" })],
    [
      makePod({ name: "w1", labels: { app: "web" }, nodeName: "a" }),
      makePod({ name: "w2", labels: { app: "web" }, nodeName: "a" }),
      makePod({ name: "w3", labels: { app: "web" }, nodeName: "c" }),
      makePod({ name: "d1", labels: { app: "db" }, nodeName: "b" }),
    ],
  );
  return snap;
}

test("PodCountCache counts matching pods per topology value, skipping nodes without the key", () => {
  const snap = setup();
  const cache = new PodCountCache();
  assert.deepEqual(Object.fromEntries(cache.counts(appQuery("web"), snap.nodeInfos)), { z1: 2 });
  assert.deepEqual(Object.fromEntries(cache.counts(appQuery("web", true), snap.nodeInfos)), { z1: 2, z2: 0 });
});

test("PodCountCache keeps counts current as pods come and go", () => {
  const snap = setup();
  const cache = new PodCountCache();
  const counts = cache.counts(appQuery("web"), snap.nodeInfos);
  const added = new PodInfo(makePod({ name: "w4", labels: { app: "web" } }));
  cache.update(added, snap.get("b")!, 1);
  assert.deepEqual(Object.fromEntries(counts), { z1: 2, z2: 1 });
  cache.update(added, snap.get("b")!, -1);
  assert.deepEqual(Object.fromEntries(counts), { z1: 2 });
});

test("PodCountCache holds at most its bound, dropping the least recently used", () => {
  const snap = setup();
  const cache = new PodCountCache(2);
  const web = cache.counts(appQuery("web"), snap.nodeInfos);
  cache.counts(appQuery("db"), snap.nodeInfos);
  assert.equal(cache.counts(appQuery("web"), snap.nodeInfos), web, "a hit returns the cached map");
  cache.counts(appQuery("cache"), snap.nodeInfos);
  assert.equal(cache.size, 2);
  // "db" was least recently used: it was dropped and is counted afresh.
  assert.equal(cache.counts(appQuery("web"), snap.nodeInfos), web);
  assert.deepEqual(Object.fromEntries(cache.counts(appQuery("db"), snap.nodeInfos)), { z2: 1 });
});

test("PodCountCache's table gives each node's domain by id, and the counts by domain, kept current with counts()", () => {
  const snap = setup();
  const cache = new PodCountCache();
  const t = cache.table(appQuery("web", true), snap.nodeInfos);
  const [a, b, c] = ["a", "b", "c"].map((n) => snap.get(n)!);
  const at = (n: typeof a) => (t.domainOfNode[n.id] < 0 ? -1 : t.perDomain[t.domainOfNode[n.id]]);
  assert.deepEqual([at(a), at(b), at(c)], [2, 0, -1], "c has no zone label");
  assert.equal(cache.counts(appQuery("web", true), snap.nodeInfos), t.counts, "the table's map is the cached one");
  const added = new PodInfo(makePod({ name: "w4", labels: { app: "web" } }));
  cache.update(added, b, 1);
  assert.deepEqual([at(a), at(b)], [2, 1]);
  cache.update(added, b, -1);
  cache.update(added, a, -1);
  assert.deepEqual([at(a), at(b)], [1, 0]);
  assert.deepEqual(Object.fromEntries(t.counts), { z1: 1, z2: 0 });
});

test("PodCountCache's table: nodes sharing a topology value share one domain and its count", () => {
  const snap = makeSnapshot(
    [makeNode({ name: "a", labels: { zone: "z1" } }), makeNode({ name: "b", labels: { zone: "z1" } }), makeNode({ name: "c", labels: { zone: "z2" } })],
    [makePod({ name: "w1", labels: { app: "web" }, nodeName: "a" })],
  );
  const cache = new PodCountCache();
  const t = cache.table(appQuery("web", true), snap.nodeInfos);
  const [a, b, c] = ["a", "b", "c"].map((n) => snap.get(n)!);
  assert.equal(t.domainOfNode[a.id], t.domainOfNode[b.id]);
  assert.notEqual(t.domainOfNode[a.id], t.domainOfNode[c.id]);
  cache.update(new PodInfo(makePod({ name: "w2", labels: { app: "web" } })), b, 1);
  assert.equal(t.perDomain[t.domainOfNode[a.id]], 2);
  assert.equal(t.perDomain[t.domainOfNode[c.id]], 0);
});

test("PodCountCache's table keeps the smallest count current as pods come and go, as a walk over the counts finds it", () => {
  const zones = ["z1", "z2", "z3", "z4"];
  const snap = makeSnapshot(
    zones.map((z) => makeNode({ name: `n-${z}`, labels: { zone: z } })),
    [],
  );
  const nodes = zones.map((z) => snap.get(`n-${z}`)!);
  for (const includeEmptyDomains of [true, false]) {
    const cache = new PodCountCache();
    const t = cache.table(appQuery("web", includeEmptyDomains), snap.nodeInfos);
    assert.equal(t.min, 0);
    const placed: number[] = [0, 0, 0, 0];
    let seed = 7;
    for (let step = 0; step < 400; step++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const i = seed % 4;
      // Mostly adds, so counts climb and the minimum moves up as well as down.
      const remove = placed[i] > 0 && (seed >> 8) % 3 === 0;
      cache.update(new PodInfo(makePod({ name: `w${step}`, labels: { app: "web" } })), nodes[i], remove ? -1 : 1);
      placed[i] += remove ? -1 : 1;
      const walked = t.counts.size === 0 ? 0 : Math.min(...t.counts.values());
      assert.equal(t.min, walked, `step ${step}, includeEmptyDomains ${includeEmptyDomains}: counts ${JSON.stringify(Object.fromEntries(t.counts))}`);
    }
  }
});
