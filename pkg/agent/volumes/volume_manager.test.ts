import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, Pod, Secret } from '../../../gen/navarch/api/v1/core.js';
import { obj, testServer, type TestServer } from '../../apiserver/test_util.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { RecordingClient } from '../../controllers/testing/recording_client.js';
import { ContainerConfigError } from '../env.js';
import { mountsUnder } from './mounts.js';
import { VolumeError, VolumeManager } from './volume_manager.js';

const isRoot = process.getuid?.() === 0;

/** Both paths reach the same file or directory (a bind mount shares device and inode). */
async function assertSame(a: string, b: string): Promise<void> {
  const [x, y] = [await stat(a), await stat(b)];
  assert.deepEqual([x.dev, x.ino], [y.dev, y.ino], `${a} is not ${b}`);
}
let uidCounter = 0;

function podWith(volumes: unknown[], containers: unknown[] = [{ name: 'app', image: 'busybox' }], labels: Record<string, string> = { app: 'web' }): Pod {
  return obj<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', uid: `pod-${++uidCounter}`, labels },
    spec: { volumes, containers },
  });
}

const configMap = (name: string, data: Record<string, string>) => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
const secret = (name: string, data: Record<string, Buffer>) =>
  obj<Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')])) });

describe('VolumeManager', () => {
  let root: string;
  let t: TestServer;
  let vm: VolumeManager;
  const clock = new FakeClock(Date.UTC(2026, 11, 2, 12, 0, 0));

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'navarch-volumes-'));
    t = await testServer();
    vm = new VolumeManager({ podsDir: join(root, 'pods'), client: new RecordingClient(t.server), clock });
  });
  after(async () => {
    // Unmount whatever a failed test left before removing the tree.
    for (const m of await mountsUnder(root)) await import('./mounts.js').then((x) => x.unmount(m));
    await rm(root, { recursive: true, force: true });
  });

  const upsert = async (o: ConfigMap | Secret) => {
    const resource = o.kind === 'ConfigMap' ? 'configmaps' : 'secrets';
    try {
      const cur = await t.server.get({ resource, namespace: 'default', name: o.metadata!.name! });
      await t.server.update({ object: { ...o, metadata: { ...o.metadata!, resourceVersion: cur.metadata?.resourceVersion } } });
    } catch {
      await t.server.create({ object: o });
    }
  };

  describe('emptyDir', () => {
    it('is one directory under the pod, writable by all, that every container of the pod mounts', async () => {
      const pod = podWith([{ name: 'shared', emptyDir: {} }], [
        { name: 'a', image: 'busybox', volumeMounts: [{ name: 'shared', mountPath: '/data' }] },
        { name: 'b', image: 'busybox', volumeMounts: [{ name: 'shared', mountPath: '/in', readOnly: true }] },
      ]);
      const paths = await vm.setUp(pod);
      const dir = join(root, 'pods', pod.metadata!.uid!, 'volumes', 'empty-dir', 'shared');
      assert.deepEqual([...paths], [['shared', dir]]);
      assert.equal((await stat(dir)).mode & 0o777, 0o777);
      await writeFile(join(dir, 'note'), 'kept');
      assert.deepEqual(await vm.setUp(pod), paths, 'a second setUp changes nothing');
      assert.equal(await readFile(join(dir, 'note'), 'utf8'), 'kept');
      assert.deepEqual(await vm.mountsFor(pod, pod.spec!.containers[0], paths), [{ hostPath: dir, containerPath: '/data', readOnly: false }]);
      assert.deepEqual(await vm.mountsFor(pod, pod.spec!.containers[1], paths), [{ hostPath: dir, containerPath: '/in', readOnly: true }]);
      await vm.tearDown(pod.metadata!.uid!);
      await assert.rejects(stat(join(root, 'pods', pod.metadata!.uid!)), { code: 'ENOENT' });
    });

    it('with medium Memory is a tmpfs of the size limit, unmounted by tearDown', { skip: !isRoot && 'needs root to mount' }, async () => {
      const pod = podWith([{ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '2Mi' } }]);
      const dir = (await vm.setUp(pod)).get('cache')!;
      assert.deepEqual(await mountsUnder(dir), [dir]);
      const mounts = await readFile('/proc/self/mountinfo', 'utf8');
      const line = mounts.split('\n').find((l) => l.split(' ')[4] === dir)!;
      assert.match(line, / - tmpfs tmpfs .*size=2048k/);
      // More than the limit does not fit.
      await assert.rejects(writeFile(join(dir, 'big'), Buffer.alloc(3 * 1024 * 1024)), { code: 'ENOSPC' });
      await vm.setUp(pod);
      assert.deepEqual(await mountsUnder(dir), [dir], 'setUp again does not stack a second tmpfs');
      await vm.tearDown(pod.metadata!.uid!);
      assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).includes(dir), false);
      await assert.rejects(stat(dir), { code: 'ENOENT' });
    });

    it('reports a disk emptyDir that outgrew its sizeLimit', async () => {
      const pod = podWith([{ name: 'small', emptyDir: { sizeLimit: '64Ki' } }, { name: 'free', emptyDir: {} }]);
      const paths = await vm.setUp(pod);
      await writeFile(join(paths.get('small')!, 'a'), Buffer.alloc(16 * 1024, 1));
      await writeFile(join(paths.get('free')!, 'big'), Buffer.alloc(512 * 1024, 1));
      assert.deepEqual(await vm.exceededSizeLimits(pod), []);
      await mkdir(join(paths.get('small')!, 'sub'));
      await writeFile(join(paths.get('small')!, 'sub', 'b'), Buffer.alloc(128 * 1024, 1));
      const [over, ...rest] = await vm.exceededSizeLimits(pod);
      assert.deepEqual(rest, []);
      assert.equal(over.volume, 'small');
      assert.equal(over.limitBytes, 64 * 1024);
      assert.ok(over.usedBytes > 64 * 1024, `used ${over.usedBytes}`);
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('belongs to the pod fsGroup, with setgid so new files do too', { skip: !isRoot && 'needs root to chown' }, async () => {
      const pod = podWith([{ name: 'shared', emptyDir: {} }]);
      pod.spec!.securityContext = { fsGroup: 4321, supplementalGroups: [], sysctls: [] };
      const dir = (await vm.setUp(pod)).get('shared')!;
      const s = await stat(dir);
      assert.equal(s.gid, 4321);
      assert.equal(s.mode & 0o7777, 0o2777);
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('refuses a volume name that is not a DNS label, so it cannot leave the pod directory', async () => {
      const pod = podWith([{ name: '../../escape', emptyDir: {} }]);
      await assert.rejects(vm.setUp(pod), (err: unknown) => err instanceof VolumeError && err.field === 'spec.volumes[0].name');
      await assert.rejects(stat(join(root, 'escape')), { code: 'ENOENT' });
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('refuses an unknown medium, naming the field', async () => {
      const pod = podWith([{ name: 'x', emptyDir: { medium: 'HugePages' } }]);
      await assert.rejects(vm.setUp(pod), (err: unknown) => err instanceof VolumeError && err.volume === 'x' && err.field === 'spec.volumes[0].emptyDir.medium');
    });
  });

  describe('hostPath', () => {
    let host: string;
    let sock: ReturnType<typeof createServer>;
    before(async () => {
      host = join(root, 'host');
      await mkdir(join(host, 'dir'), { recursive: true });
      await writeFile(join(host, 'file'), 'x');
      sock = createServer();
      await new Promise<void>((r) => sock.listen(join(host, 'sock'), r));
    });
    after(() => new Promise<void>((r) => sock.close(() => r())));

    const cases: Array<[string, string, string, RegExp | null]> = [
      ['a directory', 'dir', 'Directory', null],
      ['a file as Directory', 'file', 'Directory', /is not a directory/],
      ['a missing Directory', 'missing', 'Directory', /does not exist/],
      ['a file', 'file', 'File', null],
      ['a directory as File', 'dir', 'File', /is not a file/],
      ['a socket', 'sock', 'Socket', null],
      ['a file as Socket', 'file', 'Socket', /is not a socket/],
      ['anything with no type', 'missing-too', '', null],
      ['an existing file as DirectoryOrCreate', 'file', 'DirectoryOrCreate', /is not a directory/],
      ['an unknown type', 'dir', 'Folder', /type "Folder" is not one of/],
      ['FileOrCreate whose parent is missing', 'nope/f', 'FileOrCreate', /parent directory does not exist/],
    ];
    for (const [what, rel, type, error] of cases) {
      it(`${error ? 'refuses' : 'accepts'} ${what}`, async () => {
        const pod = podWith([{ name: 'h', hostPath: { path: join(host, rel), type } }]);
        if (error) await assert.rejects(vm.setUp(pod), (err: unknown) => err instanceof VolumeError && err.volume === 'h' && error.test(err.message));
        else assert.equal((await vm.setUp(pod)).get('h'), join(host, rel));
        await vm.tearDown(pod.metadata!.uid!);
      });
    }

    it('creates what DirectoryOrCreate and FileOrCreate ask for, and tearDown leaves the host path alone', async () => {
      const pod = podWith([
        { name: 'd', hostPath: { path: join(host, 'made/deep'), type: 'DirectoryOrCreate' } },
        { name: 'f', hostPath: { path: join(host, 'dir/made.txt'), type: 'FileOrCreate' } },
      ]);
      await vm.setUp(pod);
      assert.ok((await stat(join(host, 'made/deep'))).isDirectory());
      const f = await stat(join(host, 'dir/made.txt'));
      assert.ok(f.isFile());
      assert.equal(f.size, 0);
      await vm.tearDown(pod.metadata!.uid!);
      assert.ok((await stat(join(host, 'dir/made.txt'))).isFile());
    });

    it('refuses a relative path', async () => {
      await assert.rejects(vm.setUp(podWith([{ name: 'h', hostPath: { path: 'etc' } }])), /must be an absolute path/);
    });
  });

  describe('configMap and secret', () => {
    it('writes every key as a file behind ..data, with the default mode', async () => {
      await upsert(configMap('settings', { 'app.conf': 'level=info\n', 'other.txt': 'x' }));
      const pod = podWith([{ name: 'cfg', configMap: { name: 'settings', defaultMode: 0o640 } }], [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }] }]);
      const paths = await vm.setUp(pod);
      const dir = paths.get('cfg')!;
      assert.equal(dir, join(root, 'pods', pod.metadata!.uid!, 'volumes', 'configmap', 'cfg'));
      assert.equal(await readFile(join(dir, 'app.conf'), 'utf8'), 'level=info\n');
      assert.equal(await readlink(join(dir, 'app.conf')), '..data/app.conf');
      const version = await readlink(join(dir, '..data'));
      assert.match(version, /^\.\.2026_12_02_12_00_00\./);
      assert.deepEqual((await readdir(dir)).sort(), ['..data', version, 'app.conf', 'other.txt'].sort());
      assert.equal((await stat(join(dir, 'other.txt'))).mode & 0o777, 0o640);
      assert.deepEqual(await vm.mountsFor(pod, pod.spec!.containers[0], paths), [{ hostPath: dir, containerPath: '/etc/app', readOnly: true }], 'API data volumes are read-only');
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('gives the files to the pod fsGroup, readable by it, without rewriting them on every refresh', { skip: !isRoot && 'needs root to chown' }, async () => {
      await upsert(configMap('grouped', { a: 'A' }));
      const pod = podWith([{ name: 'cfg', configMap: { name: 'grouped', defaultMode: 0o400 } }]);
      pod.spec!.securityContext = { fsGroup: 4321, supplementalGroups: [], sysctls: [] };
      const dir = (await vm.setUp(pod)).get('cfg')!;
      const f = await stat(join(dir, 'a'));
      assert.equal(f.gid, 4321);
      assert.equal(f.mode & 0o777, 0o440);
      assert.equal((await stat(join(dir, '..data'))).gid, 4321);
      assert.deepEqual(await vm.refresh(pod), []);
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('writes only the listed items, at their paths and modes', async () => {
      await upsert(configMap('items', { a: 'A', b: 'B' }));
      const pod = podWith([{ name: 'cfg', configMap: { name: 'items', items: [{ key: 'a', path: 'conf/first.txt', mode: 0o600 }] } }]);
      const dir = (await vm.setUp(pod)).get('cfg')!;
      assert.deepEqual((await readdir(dir)).filter((n) => !n.startsWith('..')), ['conf']);
      assert.equal(await readFile(join(dir, 'conf/first.txt'), 'utf8'), 'A');
      assert.equal((await stat(join(dir, 'conf/first.txt'))).mode & 0o777, 0o600);
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('names the volume and the object when a ConfigMap, Secret or key is missing', async () => {
      await upsert(configMap('items', { a: 'A' }));
      const cases: Array<[unknown, string]> = [
        [{ name: 'cfg', configMap: { name: 'absent' } }, 'Cannot set up volume "cfg" (spec.volumes[0].configMap): configmap "absent" not found in namespace "default"'],
        [{ name: 'creds', secret: { secretName: 'absent' } }, 'Cannot set up volume "creds" (spec.volumes[0].secret): secret "absent" not found in namespace "default"'],
        [{ name: 'cfg', configMap: { name: 'items', items: [{ key: 'zzz', path: 'z' }] } }, 'Cannot set up volume "cfg" (spec.volumes[0].configMap.items[0].key): key "zzz" not found in configmap "items"'],
        [{ name: 'cfg', configMap: { name: 'items', items: [{ key: 'a', path: '../escape' }] } }, `Cannot set up volume "cfg" (spec.volumes[0].configMap.items[0].path): "../escape" must not contain '..'`],
      ];
      for (const [volume, message] of cases) {
        const pod = podWith([volume]);
        await assert.rejects(vm.setUp(pod), (err: unknown) => err instanceof VolumeError && err.message === message);
        await vm.tearDown(pod.metadata!.uid!);
      }
    });

    it('gives an empty volume for a missing optional object', async () => {
      const pod = podWith([{ name: 'cfg', configMap: { name: 'absent', optional: true } }, { name: 's', secret: { secretName: 'absent', optional: true } }]);
      const paths = await vm.setUp(pod);
      assert.deepEqual(await readdir(paths.get('cfg')!).then((l) => l.filter((n) => !n.startsWith('..'))), []);
      assert.deepEqual(await readdir(paths.get('s')!).then((l) => l.filter((n) => !n.startsWith('..'))), []);
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('puts secrets on a tmpfs, byte for byte', { skip: !isRoot && 'needs root to mount' }, async () => {
      const bytes = Buffer.from([0, 1, 2, 255, 254, 10]);
      await upsert(secret('creds', { 'key.bin': bytes, password: Buffer.from('pw') }));
      const pod = podWith([{ name: 'creds', secret: { secretName: 'creds' } }]);
      const dir = (await vm.setUp(pod)).get('creds')!;
      assert.deepEqual(await mountsUnder(dir), [dir]);
      assert.deepEqual(await readFile(join(dir, 'key.bin')), bytes);
      assert.equal((await stat(join(dir, 'password'))).mode & 0o777, 0o644);
      await vm.tearDown(pod.metadata!.uid!);
      assert.deepEqual(await mountsUnder(root), []);
    });

    it('writes secrets readable by their owner only when it may not mount', async () => {
      await upsert(secret('creds', { password: Buffer.from('pw') }));
      const noMount = new VolumeManager({ podsDir: join(root, 'pods'), client: new RecordingClient(t.server), clock, canMount: false });
      const pod = podWith([{ name: 'creds', secret: { secretName: 'creds', defaultMode: 0o644 } }]);
      const dir = (await noMount.setUp(pod)).get('creds')!;
      assert.deepEqual(await mountsUnder(dir), []);
      assert.equal(await readFile(join(dir, 'password'), 'utf8'), 'pw');
      assert.equal((await stat(join(dir, 'password'))).mode & 0o777, 0o600);
      await noMount.tearDown(pod.metadata!.uid!);
    });

    it('refresh rewrites a changed ConfigMap in place: new keys appear, removed ones go, old versions are deleted', async () => {
      await upsert(configMap('live', { a: '1', b: '1' }));
      const pod = podWith([{ name: 'cfg', configMap: { name: 'live' } }, { name: 'scratch', emptyDir: {} }]);
      const dir = (await vm.setUp(pod)).get('cfg')!;
      assert.deepEqual(await vm.refresh(pod), [], 'nothing changed');
      const v1 = await readlink(join(dir, '..data'));
      await upsert(configMap('live', { a: '2', c: '2' }));
      await clock.advance(61_000);
      assert.deepEqual(await vm.refresh(pod), ['cfg']);
      const v2 = await readlink(join(dir, '..data'));
      assert.notEqual(v2, v1);
      assert.match(v2, /^\.\.2026_12_02_12_01_01\./);
      assert.deepEqual((await readdir(dir)).sort(), ['..data', v2, 'a', 'c'].sort());
      assert.equal(await readFile(join(dir, 'a'), 'utf8'), '2');
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('a reader never sees a mix of two versions while refresh swaps them', async () => {
      const sizeBytes = 256 * 1024;
      const content = (n: number, name: string) => `${name}:${n}:`.padEnd(sizeBytes, String(n % 10));
      await upsert(configMap('swap', { a: content(0, 'a'), b: content(0, 'b') }));
      const pod = podWith([{ name: 'cfg', configMap: { name: 'swap' } }]);
      const dir = (await vm.setUp(pod)).get('cfg')!;
      const { Worker } = await import('node:worker_threads');
      const stop = new Int32Array(new SharedArrayBuffer(4));
      // Reads synchronously on another thread: through ..data resolved once (both files must be of one
      // version), and through the user-visible name (the file must be whole).
      const reader = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         const fs = require('node:fs');
         const { dir, stop, sizeBytes } = workerData;
         const seen = new Set(); const problems = []; let reads = 0;
         const parse = (s, name) => { const m = /^(\\w):(\\d+):/.exec(s); if (!m || m[1] !== name || s.length !== sizeBytes || s !== (name + ':' + m[2] + ':').padEnd(sizeBytes, String(Number(m[2]) % 10))) return -1; return Number(m[2]); };
         while (Atomics.load(stop, 0) === 0) {
           try {
             const version = fs.readlinkSync(dir + '/..data');
             const a = parse(fs.readFileSync(dir + '/' + version + '/a', 'utf8'), 'a');
             const b = parse(fs.readFileSync(dir + '/' + version + '/b', 'utf8'), 'b');
             if (a < 0 || b < 0 || a !== b) problems.push('mixed or partial set: a=' + a + ' b=' + b);
             const direct = parse(fs.readFileSync(dir + '/a', 'utf8'), 'a');
             if (direct < 0) problems.push('partial file through the user-visible name');
             seen.add(a); reads++;
           } catch (err) { if (err.code !== 'ENOENT') problems.push(String(err)); }
         }
         parentPort.postMessage({ seen: [...seen], problems: problems.slice(0, 10), reads });`,
        { eval: true, workerData: { dir, stop, sizeBytes } },
      );
      const result = new Promise<{ seen: number[]; problems: string[]; reads: number }>((resolve, reject) => {
        reader.once('message', resolve);
        reader.once('error', reject);
      });
      const versions = 40;
      for (let n = 1; n <= versions; n++) {
        await upsert(configMap('swap', { a: content(n, 'a'), b: content(n, 'b') }));
        assert.deepEqual(await vm.refresh(pod), ['cfg']);
      }
      Atomics.store(stop, 0, 1);
      const r = await result;
      await reader.terminate();
      assert.deepEqual(r.problems, []);
      assert.ok(r.seen.length >= 2, `the reader saw ${r.seen.length} version(s) in ${r.reads} reads; the test needs it to overlap the swaps`);
      await vm.tearDown(pod.metadata!.uid!);
    });
  });

  describe('downwardAPI', () => {
    it('writes pod fields as files and refresh follows label changes', async () => {
      const volumes = [{ name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }, { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } }] } }];
      const containers = [{ name: 'app', image: 'busybox', resources: { limits: { memory: '64Mi' } } }];
      const pod = podWith(volumes, containers, { b: '2', a: '1' });
      const dir = (await vm.setUp(pod)).get('info')!;
      assert.equal(await readFile(join(dir, 'name'), 'utf8'), 'web-1');
      assert.equal(await readFile(join(dir, 'labels'), 'utf8'), 'a="1"\nb="2"');
      assert.equal(await readFile(join(dir, 'mem'), 'utf8'), '64');
      pod.metadata!.labels = { a: '3' };
      assert.deepEqual(await vm.refresh(pod), ['info']);
      assert.equal(await readFile(join(dir, 'labels'), 'utf8'), 'a="3"');
      await vm.tearDown(pod.metadata!.uid!);
    });
  });

  describe('mountsFor', () => {
    const mountPod = (volumeMounts: unknown[], env: unknown[] = []) =>
      podWith([{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'sub' } }], [{ name: 'app', image: 'busybox', env, volumeMounts }]);

    it('mounts a subPath, creating it inside the volume, and a configMap key by subPath', async () => {
      await upsert(configMap('sub', { 'app.conf': 'x' }));
      const pod = mountPod([
        { name: 'data', mountPath: '/var/log', subPath: 'logs/app' },
        { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' },
      ]);
      const paths = await vm.setUp(pod);
      const mounts = await vm.mountsFor(pod, pod.spec!.containers[0], paths);
      await assertSame(mounts[0].hostPath, join(paths.get('data')!, 'logs/app'));
      assert.ok((await stat(mounts[0].hostPath)).isDirectory());
      assert.equal(await readFile(mounts[1].hostPath, 'utf8'), 'x');
      assert.equal((await lstat(mounts[1].hostPath)).isSymbolicLink(), false, 'the resolved file, not a link a container could swap');
      // Mounting again (a container restart) gives the same result, not a second mount.
      const again = await vm.mountsFor(pod, pod.spec!.containers[0], paths);
      assert.deepEqual(again, mounts);
      assert.equal(mounts[1].readOnly, true);
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('expands subPathExpr with the container env', async () => {
      await upsert(configMap('sub', {}));
      const pod = mountPod([{ name: 'data', mountPath: '/out', subPathExpr: '$(POD)/out' }], [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
      const paths = await vm.setUp(pod);
      const [m] = await vm.mountsFor(pod, pod.spec!.containers[0], paths);
      await assertSame(m.hostPath, join(paths.get('data')!, 'web-1/out'));
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('refuses subPaths that escape the volume, naming the field', async () => {
      await upsert(configMap('sub', {}));
      const outside = join(root, 'outside');
      await mkdir(outside, { recursive: true });
      const cases: Array<[string, string | undefined, RegExp]> = [
        ['../../etc', undefined, /must not contain '\.\.'/],
        ['ok/../../x', undefined, /must not contain '\.\.'/],
        ['/etc', undefined, /must be a relative path/],
        ['evil', outside, /leads outside its volume \(through evil\)/],
        ['evil/deeper', outside, /leads outside its volume/],
        ['evilrel/x', '../../../../../outside', /leads outside its volume/],
      ];
      for (const [subPath, linkTarget, error] of cases) {
        const pod = mountPod([{ name: 'data', mountPath: '/x' }, { name: 'data', mountPath: '/y', subPath }]);
        const paths = await vm.setUp(pod);
        if (linkTarget) await symlink(linkTarget, join(paths.get('data')!, subPath.split('/')[0]));
        await assert.rejects(vm.mountsFor(pod, pod.spec!.containers[0], paths), (err: unknown) => {
          assert.ok(err instanceof ContainerConfigError, String(err));
          assert.equal(err.field, 'spec.containers[0].volumeMounts[1].subPath');
          assert.match(err.message, error);
          return true;
        });
        await vm.tearDown(pod.metadata!.uid!);
      }
      assert.deepEqual(await readdir(outside), [], 'nothing was created outside the volume');
    });

    it('accepts a symlink that stays inside the volume', async () => {
      await upsert(configMap('sub', {}));
      const pod = mountPod([{ name: 'data', mountPath: '/y', subPath: 'link' }]);
      const paths = await vm.setUp(pod);
      await mkdir(join(paths.get('data')!, 'real'));
      await symlink('real', join(paths.get('data')!, 'link'));
      const [m] = await vm.mountsFor(pod, pod.spec!.containers[0], paths);
      await assertSame(m.hostPath, join(paths.get('data')!, 'real'));
      await vm.tearDown(pod.metadata!.uid!);
    });

    it('pins a checked subPath, so a symlink swapped in afterwards does not redirect the mount', { skip: !isRoot && 'needs root to mount' }, async () => {
      await upsert(configMap('sub', {}));
      const outside = join(root, 'outside-pin');
      await mkdir(outside, { recursive: true });
      await writeFile(join(outside, 'host-secret'), 'host');
      const pod = mountPod([{ name: 'data', mountPath: '/y', subPath: 'logs/app' }]);
      const paths = await vm.setUp(pod);
      const [m] = await vm.mountsFor(pod, pod.spec!.containers[0], paths);
      assert.notEqual(m.hostPath, join(paths.get('data')!, 'logs/app'));
      // A container that shares the volume swaps the checked directory for a link to the host.
      await rename(join(paths.get('data')!, 'logs/app'), join(paths.get('data')!, 'logs/moved'));
      await symlink(outside, join(paths.get('data')!, 'logs/app'));
      assert.deepEqual(await readdir(m.hostPath), [], 'the mount still shows the directory that was checked');
      await assertSame(m.hostPath, join(paths.get('data')!, 'logs/moved'));
      await vm.tearDown(pod.metadata!.uid!);
      assert.deepEqual(await mountsUnder(root), []);
      assert.deepEqual(await readdir(outside), ['host-secret'], 'tearDown left the host alone');
    });

    it('refuses a mount of a volume the pod does not have', async () => {
      await upsert(configMap('sub', {}));
      const pod = mountPod([{ name: 'nope', mountPath: '/y' }]);
      const paths = await vm.setUp(pod);
      await assert.rejects(vm.mountsFor(pod, pod.spec!.containers[0], paths), { message: 'spec.containers[0].volumeMounts[0].name: volume "nope" not found among the pod\'s volumes' });
      await vm.tearDown(pod.metadata!.uid!);
    });
  });
});
