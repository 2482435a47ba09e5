// For stats tests: a running container in the fake runtime carrying the pod labels the pod workers set.

import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../pods/container_config.js';
import type { FakeRuntime } from '../runtime/fake.js';

const IMAGE = '127.0.0.1:5000/navarch/busybox:latest';

export async function runFakeContainer(rt: FakeRuntime, c: { namespace: string; pod: string; uid: string; container: string }, usage?: { cpuUsageNanos: number; memoryWorkingSetBytes: number }): Promise<string> {
  if (!(await rt.imageStatus(IMAGE))) rt.addLocalImage(IMAGE);
  const id = `${c.uid}-${c.container}`;
  await rt.createContainer({
    id,
    podUid: c.uid,
    podName: c.pod,
    podNamespace: c.namespace,
    containerName: c.container,
    attempt: 0,
    image: IMAGE,
    argv: ['httpd'],
    env: [],
    mounts: [],
    netnsPath: '',
    hostname: c.pod,
    resources: {},
    logPath: '/dev/null',
    labels: { [LABEL_POD_UID]: c.uid, [LABEL_POD_NAME]: c.pod, [LABEL_POD_NAMESPACE]: c.namespace },
  });
  await rt.startContainer(id);
  if (usage) rt.setUsage(id, usage);
  return id;
}
