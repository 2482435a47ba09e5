import assert from "node:assert/strict";
import { test } from "node:test";
import type { ReplicaSet, Service, StatefulSet } from "../api/registry.js";
import { obj } from "../apiserver/test_util.js";
import { defaultSpreadSelector, type SiblingListers } from "./default_spread_selector.js";
import { PodInfo } from "./framework/pod_info.js";
import { makePod } from "./testing/wrappers.js";

const service = (name: string, selector: Record<string, string>) => obj<Service>({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { selector, ports: [{ port: 80 }] } });
const rs = obj<ReplicaSet>({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web-abc", namespace: "default" },
  spec: { selector: { matchLabels: { app: "web", "pod-template-hash": "abc" } }, template: { metadata: { labels: { app: "web", "pod-template-hash": "abc" } } } },
});

const listers = (services: Service[], sets: { rs?: ReplicaSet; sts?: StatefulSet } = {}): SiblingListers => ({
  services: (ns) => services.filter((s) => s.metadata?.namespace === ns),
  replicaSet: (_ns, name) => (sets.rs?.metadata?.name === name ? sets.rs : undefined),
  statefulSet: (_ns, name) => (sets.sts?.metadata?.name === name ? sets.sts : undefined),
});

function pod(owner?: { kind: string; name: string }): PodInfo {
  const p = makePod({ name: "p", labels: { app: "web", tier: "front", "pod-template-hash": "abc" } });
  if (owner) p.metadata!.ownerReferences = [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: "u", controller: true }];
  return new PodInfo(p);
}

test("the sibling selector merges the selectors of the pod's Services and of the ReplicaSet that controls it", () => {
  const sel = defaultSpreadSelector(pod({ kind: "ReplicaSet", name: "web-abc" }), listers([service("web", { app: "web" }), service("front", { tier: "front" }), service("db", { app: "db" }), service("manual", {})], { rs }));
  assert.equal(sel?.toString(), "app=web,app=web,pod-template-hash=abc,tier=front");
  assert.equal(defaultSpreadSelector(pod(), listers([service("front", { tier: "front" })]))?.toString(), "tier=front", "Services alone");
  assert.equal(defaultSpreadSelector(pod({ kind: "ReplicaSet", name: "gone" }), listers([])), undefined, "an owner no longer there adds nothing");
  assert.equal(defaultSpreadSelector(pod(), listers([service("db", { app: "db" }), service("manual", {})])), undefined, "no sibling: no default spreading");
});
