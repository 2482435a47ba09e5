import assert from "node:assert/strict";
import { test } from "node:test";
import { UnschedulablePods } from "./unschedulable_pods.js";

const parked = (name: string, plugins: string[]) => ({ name, unschedulablePlugins: new Set(plugins) });

test("UnschedulablePods asks once per distinct plugin set and takes whole groups", () => {
  const u = new UnschedulablePods<ReturnType<typeof parked>>();
  for (let i = 0; i < 100; i++) u.set(`cpu-${i}`, parked(`cpu-${i}`, ["NodeResourcesFit"]));
  u.set("label", parked("label", ["NodeAffinity"]));
  u.set("both", parked("both", ["NodeResourcesFit", "NodeAffinity"]));
  u.set("both-reordered", parked("both-reordered", ["NodeAffinity", "NodeResourcesFit"]));
  const asked: string[] = [];
  const taken = u.takeWhere((plugins) => {
    asked.push([...plugins].sort().join("+"));
    return plugins.has("NodeAffinity");
  });
  assert.deepEqual(asked.sort(), ["NodeAffinity", "NodeAffinity+NodeResourcesFit", "NodeResourcesFit"]);
  assert.deepEqual(taken.map(([k]) => k).sort(), ["both", "both-reordered", "label"]);
  assert.equal(u.size, 100);
  assert.equal(u.has("label"), false);
});

test("UnschedulablePods re-files a pod parked again with other plugins, and forgets empty groups", () => {
  const u = new UnschedulablePods<ReturnType<typeof parked>>();
  u.set("p", parked("p", ["NodeResourcesFit"]));
  u.set("p", parked("p", ["TaintToleration"]));
  assert.equal(u.size, 1);
  const asked: string[] = [];
  u.takeWhere((plugins) => (asked.push([...plugins].join()), false));
  assert.deepEqual(asked, ["TaintToleration"]);
  assert.equal(u.delete("p"), true);
  assert.equal(u.delete("p"), false);
  u.takeWhere((plugins) => (asked.push([...plugins].join()), false));
  assert.deepEqual(asked, ["TaintToleration"], "no group left to ask");
});
