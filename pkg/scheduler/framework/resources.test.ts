import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeShared } from "../../api/convert/shared_decode.js";
import { encodeBinary } from "../../api/convert/binary.js";
import { kindByName, type Pod } from "../../api/registry.js";
import { makePod } from "../testing/wrappers.js";
import { PodInfo } from "./pod_info.js";

const POD = kindByName("Pod");
const cached = (p: Pod): Pod => decodeShared(POD, encodeBinary(p)) as Pod;
const MI = 2 ** 20;

test("pods of one template decoded for a cache share their parsed requests, bound or not", () => {
  const pending = new PodInfo(cached(makePod({ name: "a", cpu: "250m", memory: "64Mi" })));
  const bound = new PodInfo(cached(makePod({ name: "b", cpu: "250m", memory: "64Mi", nodeName: "n1" })));
  assert.deepEqual(bound.requests, { milliCpu: 250, memoryBytes: 64 * MI });
  assert.equal(bound.requests, pending.requests);
  assert.equal(bound.nonZeroRequests, pending.nonZeroRequests);
});

test("a shared container with other init containers or overhead is not taken for the same requests", () => {
  const base = { cpu: "1", memory: "1Gi" };
  const plain = new PodInfo(cached(makePod({ name: "a", ...base })));
  const init = new PodInfo(cached(makePod({ name: "b", ...base, initContainers: [{ name: "i", resources: { requests: { cpu: "3" } } }] })));
  const overhead = new PodInfo(cached(makePod({ name: "c", ...base, overhead: { cpu: "100m" } })));
  const again = new PodInfo(cached(makePod({ name: "d", ...base })));
  assert.equal(plain.requests.milliCpu, 1000);
  assert.equal(init.requests.milliCpu, 3000);
  assert.equal(overhead.requests.milliCpu, 1100);
  assert.equal(again.requests.milliCpu, 1000);
  // Without requests a container counts Kubernetes' defaults for scoring only.
  const none = new PodInfo(cached(makePod({ name: "e", containers: [{ name: "c", image: "pause" }] })));
  assert.deepEqual([none.requests, none.nonZeroRequests], [{ milliCpu: 0, memoryBytes: 0 }, { milliCpu: 100, memoryBytes: 200 * MI }]);
});

test("requests of a pod a caller can still change are parsed each time", () => {
  const pod = makePod({ name: "a", cpu: "1" });
  assert.equal(new PodInfo(pod).requests.milliCpu, 1000);
  pod.spec!.containers[0].resources!.requests!.cpu = "2";
  assert.equal(new PodInfo(pod).requests.milliCpu, 2000);
});
