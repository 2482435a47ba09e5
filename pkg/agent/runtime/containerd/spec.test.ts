import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerConfig, ImageInfo } from '../runtime.js';
import { buildResources, buildSpec, checkConfig, DEFAULT_CAPABILITIES, mergeEnv } from './spec.js';

const image: ImageInfo = {
  ref: '127.0.0.1:5000/navarch/busybox:latest',
  digest: 'sha256:' + 'a'.repeat(64),
  configDigest: 'sha256:' + 'b'.repeat(64),
  sizeBytes: 1,
  config: { entrypoint: [], cmd: ['sh'], env: ['PATH=/bin', 'LANG=C'], workingDir: '/srv', user: '1000:100' },
};

function config(extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    id: 'c1',
    podUid: 'u',
    podName: 'p',
    podNamespace: 'default',
    containerName: 'main',
    attempt: 0,
    image: image.ref,
    argv: ['sh', '-c', 'true'],
    env: [],
    mounts: [],
    netnsPath: '/run/netns/x',
    hostname: 'p',
    resources: {},
    logPath: '/var/log/x.log',
    labels: {},
    ...extra,
  };
}

type Spec = {
  process: { user: { uid: number; gid: number }; cwd: string; env: string[]; args: string[]; capabilities: { bounding: string[] } };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: { namespaces: { type: string; path?: string }[]; cgroupsPath: string; resources: Record<string, unknown>; maskedPaths: string[] };
};

describe('buildSpec', () => {
  it('takes argv, the image user, working dir and env, and lets the container override them', () => {
    const s = buildSpec(config({ env: [{ name: 'LANG', value: 'en' }, { name: 'X', value: '1' }] }), image, '/navarch/c1') as Spec;
    assert.deepEqual(s.process.args, ['sh', '-c', 'true']);
    assert.deepEqual(s.process.user, { uid: 1000, gid: 100 });
    assert.equal(s.process.cwd, '/srv');
    assert.deepEqual(s.process.env, ['PATH=/bin', 'LANG=en', 'X=1']);
    const o = buildSpec(config({ runAsUser: 7, workingDir: '/tmp' }), image, '/navarch/c1') as Spec;
    assert.deepEqual(o.process.user, { uid: 7, gid: 0 });
    assert.equal(o.process.cwd, '/tmp');
  });

  it('joins the pod network namespace by path, sets the hostname and the default capabilities and masks', () => {
    const s = buildSpec(config(), image, '/navarch/c1') as Spec;
    assert.deepEqual(s.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
    assert.ok(s.linux.namespaces.some((n) => n.type === 'uts'));
    assert.equal(s.hostname, 'p');
    assert.equal(s.linux.cgroupsPath, '/navarch/c1');
    assert.deepEqual(s.process.capabilities.bounding, DEFAULT_CAPABILITIES);
    assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN'));
    assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
    assert.deepEqual(s.mounts.map((m) => m.destination).slice(0, 6), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']);
  });

  it('bind mounts read-only or read-write as asked', () => {
    const s = buildSpec(config({ mounts: [{ hostPath: '/a', containerPath: '/x', readOnly: true }, { hostPath: '/b', containerPath: '/y', readOnly: false }] }), image, '/n/c') as Spec;
    const binds = s.mounts.filter((m) => m.type === 'bind');
    assert.deepEqual(binds, [
      { destination: '/x', type: 'bind', source: '/a', options: ['rbind', 'rprivate', 'ro'] },
      { destination: '/y', type: 'bind', source: '/b', options: ['rbind', 'rprivate', 'rw'] },
    ]);
  });
});

describe('buildResources', () => {
  it('maps requests to shares and limits to a CFS quota and a memory limit, as the kubelet does', () => {
    assert.deepEqual(buildResources({ cpuRequestMillis: 250, cpuLimitMillis: 1500, memoryLimitBytes: 1 << 30 }), {
      devices: [{ allow: false, access: 'rwm' }],
      cpu: { shares: 256, quota: 150_000, period: 100_000 },
      memory: { limit: 1 << 30 },
    });
    assert.deepEqual(buildResources({ cpuRequestMillis: 1, cpuLimitMillis: 1 }), { devices: [{ allow: false, access: 'rwm' }], cpu: { shares: 2, quota: 1000, period: 100_000 } });
    assert.deepEqual(buildResources({}), { devices: [{ allow: false, access: 'rwm' }] });
  });
});

describe('mergeEnv', () => {
  it('adds a default PATH only when neither image nor container sets one', () => {
    assert.deepEqual(mergeEnv([], [{ name: 'A', value: 'b=c' }]), ['A=b=c', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    assert.deepEqual(mergeEnv(['PATH=/x'], []), ['PATH=/x']);
  });
});

describe('checkConfig', () => {
  it('names the field that is wrong', () => {
    assert.throws(() => checkConfig(config({ id: 'a/b' })), /id "a\/b"/);
    assert.throws(() => checkConfig(config({ argv: [] })), /argv is empty/);
    assert.throws(() => checkConfig(config({ workingDir: 'rel' })), /workingDir "rel" is not absolute/);
    assert.throws(() => checkConfig(config({ mounts: [{ hostPath: '/a', containerPath: 'x', readOnly: false }] })), /mounts\[0\]\.containerPath "x"/);
    assert.throws(() => checkConfig(config({ netnsPath: 'ns' })), /netnsPath "ns"/);
  });
});
