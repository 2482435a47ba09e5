import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededRandom } from "../../../raft/core/random.js";
import type { Node, Pod } from "../../api/registry.js";
import { InterPodAffinity } from "../plugins/inter_pod_affinity.js";
import { PodTopologySpread } from "../plugins/pod_topology_spread.js";
import { runFilter, runScore } from "../testing/run_plugins.js";
import { HOSTNAME_LABEL, makeNode, makePod, makeSnapshot } from "../testing/wrappers.js";
import { Snapshot } from "./snapshot.js";

test("Snapshot keeps each node's requested resources as pods come and go", () => {
  const snap = makeSnapshot([makeNode({ name: "a" })]);
  snap.addPod(makePod({ name: "p1", cpu: "1", memory: "1Gi", nodeName: "a" }));
  const p2 = snap.addPod(makePod({ name: "p2", cpu: "500m", nodeName: "a" }));
  const a = snap.get("a")!;
  assert.deepEqual([a.pods.length, a.requestedMilliCpu, a.requestedMemoryBytes], [2, 1500, 2 ** 30]);
  assert.equal(snap.removePod(p2.key), true);
  assert.deepEqual([a.pods.length, a.requestedMilliCpu], [1, 1000]);
  assert.equal(snap.removePod(p2.key), false);
});

test("Snapshot replaces an earlier copy of the same pod instead of counting it twice", () => {
  const snap = makeSnapshot([makeNode({ name: "a" }), makeNode({ name: "b" })]);
  snap.addPod(makePod({ name: "p", cpu: "1", nodeName: "a" }));
  snap.addPod(makePod({ name: "p", cpu: "2", nodeName: "b" }));
  assert.deepEqual([snap.get("a")!.requestedMilliCpu, snap.get("b")!.requestedMilliCpu, snap.numPods], [0, 2000, 1]);
});

test("Snapshot holds a pod bound to a node it has not seen until the node arrives", () => {
  const snap = new Snapshot();
  snap.addPod(makePod({ name: "early", cpu: "1", nodeName: "late" }));
  assert.equal(snap.numNodes, 0);
  snap.setNode(makeNode({ name: "late" }));
  assert.equal(snap.get("late")!.requestedMilliCpu, 1000);
});

test("Snapshot keeps a node's pods when the node object is updated, and forgets them with the node", () => {
  const snap = makeSnapshot([makeNode({ name: "a" })], [makePod({ name: "p", cpu: "1", nodeName: "a" })]);
  snap.setNode(makeNode({ name: "a", cpu: "8", labels: { zone: "z9" } }));
  assert.deepEqual([snap.get("a")!.pods.length, snap.get("a")!.allocatable.milliCpu], [1, 8000]);
  assert.equal(snap.removeNode("a"), true);
  assert.deepEqual([snap.numNodes, snap.numPods], [0, 0]);
});

test("Snapshot refuses a pod that names no node and a node without a name", () => {
  assert.throws(() => new Snapshot().addPod(makePod({ name: "p" })), /Cannot add pod "uid-default-p" to the snapshot: it names no node/);
  assert.throws(() => new Snapshot().setNode(makeNode({ name: "" })), /metadata\.name is empty/);
});

// The snapshot's caches (placed pods' anti-affinity terms, per-query pod counts) are updated
// incrementally. Random changes must leave every answer equal to a snapshot built from scratch.
test("Snapshot's incremental indexes agree with a fresh snapshot after random changes", () => {
  const random = new SeededRandom(42);
  const zones = ["z0", "z1", "z2"];
  const nodes = new Map<string, Node>();
  for (let i = 0; i < 12; i++) nodes.set(`n${i}`, makeNode({ name: `n${i}`, labels: { zone: zones[i % 3] } }));
  const pods = new Map<string, Pod>();
  const snap = makeSnapshot([...nodes.values()]);
  const apps = ["a0", "a1", "a2"];
  const term = (app: string, key: string, ns?: string[]) => ({
    labelSelector: { matchLabels: { app } },
    topologyKey: key,
    namespaces: ns,
  });
  const probes: Pod[] = [];
  for (const app of apps) {
    for (const key of [HOSTNAME_LABEL, "zone"]) {
      probes.push(makePod({ name: `anti-${app}-${key}`, labels: { app }, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app, key)] } } }));
      probes.push(makePod({ name: `aff-${app}-${key}`, labels: { app: "x" }, affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app, key)] } } }));
      probes.push(
        makePod({
          name: `spread-${app}-${key}`,
          labels: { app },
          nodeSelector: key === "zone" ? { zone: "z1" } : undefined,
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: key, whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app } } }],
        }),
      );
      probes.push(
        makePod({
          name: `soft-${app}-${key}`,
          labels: { app },
          topologySpreadConstraints: [{ maxSkew: 2, topologyKey: key, whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app } } }],
        }),
      );
    }
    probes.push(
      makePod({
        name: `prefer-${app}`,
        labels: { app },
        affinity: {
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 7, podAffinityTerm: term(app, "zone") }] },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, podAffinityTerm: term(app, HOSTNAME_LABEL) }] },
        },
      }),
    );
    probes.push(makePod({ name: `other-ns-${app}`, namespace: "ns1", labels: { app }, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(app, "zone", ["default", "ns1"])] } } }));
  }
  const answers = (s: Snapshot): string => {
    const out: unknown[] = [];
    for (const p of probes) {
      for (const plugin of [new InterPodAffinity(), new PodTopologySpread()]) {
        const f = runFilter(plugin, p, s);
        out.push(f.preFilter?.message(), [...f.nodes].map(([n, st]) => `${n}:${st?.reasons[0] ?? "ok"}`));
      }
      out.push([...runScore(new PodTopologySpread(), p, s)], [...runScore(new InterPodAffinity(), p, s)]);
    }
    return JSON.stringify(out);
  };
  for (let step = 0; step < 300; step++) {
    const r = random.intn(10);
    if (r < 5 || pods.size === 0) {
      const app = apps[random.intn(apps.length)];
      const name = `p${step}`;
      const withAnti = random.intn(3) === 0;
      const pod = makePod({
        name,
        namespace: random.intn(4) === 0 ? "ns1" : "default",
        labels: { app },
        nodeName: `n${random.intn(nodes.size)}`,
        deletionTimestamp: random.intn(10) === 0 ? "2026-01-01T00:00:00Z" : undefined,
        affinity: withAnti
          ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(apps[random.intn(apps.length)], random.intn(2) ? "zone" : HOSTNAME_LABEL)] } }
          : random.intn(3) === 0
            ? {
                podAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: random.intn(2) ? [term(apps[random.intn(apps.length)], "zone")] : [],
                  preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 + random.intn(5), podAffinityTerm: term(apps[random.intn(apps.length)], "zone") }],
                },
                podAntiAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 + random.intn(5), podAffinityTerm: term(apps[random.intn(apps.length)], HOSTNAME_LABEL) }],
                },
              }
            : undefined,
      });
      pods.set(name, pod);
      snap.addPod(pod);
    } else if (r < 8) {
      const keys = [...pods.keys()];
      const name = keys[random.intn(keys.length)];
      snap.removePod(`uid-${pods.get(name)!.metadata!.namespace}-${name}`);
      pods.delete(name);
    } else if (r < 9) {
      const name = `n${random.intn(nodes.size)}`;
      const node = makeNode({ name, labels: { zone: zones[random.intn(zones.length)] } });
      nodes.set(name, node);
      snap.setNode(node);
    } else {
      // A pod moves: deleted and recreated elsewhere under the same name.
      const keys = [...pods.keys()];
      const name = keys[random.intn(keys.length)];
      const moved = { ...pods.get(name)!, spec: { ...pods.get(name)!.spec!, nodeName: `n${random.intn(nodes.size)}` } };
      pods.set(name, moved);
      snap.addPod(moved);
    }
    if (step % 10 !== 0) continue;
    const fresh = makeSnapshot([...nodes.values()], [...pods.values()]);
    assert.equal(answers(snap), answers(fresh), `after step ${step}`);
  }
});

test("Snapshot walks nodes one zone at a time, in the order zones were first seen", () => {
  const zone = (name: string, z: string) => makeNode({ name, labels: { "topology.kubernetes.io/zone": z } });
  const snap = makeSnapshot([zone("a1", "a"), zone("a2", "a"), zone("a3", "a"), zone("b1", "b"), makeNode({ name: "none" }), zone("b2", "b")]);
  assert.deepEqual(snap.nodeInfos.map((n) => n.name), ["a1", "b1", "none", "a2", "b2", "a3"]);
  snap.setNode(zone("a2", "b"));
  assert.deepEqual(snap.nodeInfos.map((n) => n.name), ["a1", "b1", "none", "a3", "b2", "a2"]);
  snap.removeNode("none");
  snap.removeNode("a1");
  assert.deepEqual(snap.nodeInfos.map((n) => n.name), ["a3", "b1", "b2", "a2"]);
});
