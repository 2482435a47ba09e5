import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../../raft/transport/free_port.js';
import { hostPlatform, writeImageLayout, type TarEntry } from '../../../oci/mod.js';
import { startLocalRegistry, type LocalRegistry } from '../../../registry/local_registry.js';
import { RegistryClient } from '../../../registry/mod.js';
import { ContainerdRuntime } from './containerd_runtime.js';
import { startFixture, waitForLog, waitForState, type Fixture } from './test_fixture.js';

/** A two-layer image unlike the fixture's: a tiny busybox root, then a layer with one more file. */
async function twoLayerImage(layoutDir: string, ref: string) {
  const bb = await stat('/bin/busybox');
  const base: TarEntry[] = [
    { type: 'dir', path: 'bin', mode: 0o755 },
    { type: 'file', path: 'bin/busybox', mode: 0o755, sourcePath: '/bin/busybox', sizeBytes: bb.size },
    ...['sh', 'cat', 'echo'].map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: '/bin/busybox' })),
    { type: 'dir', path: 'etc', mode: 0o755 },
  ];
  const extra: TarEntry[] = [{ type: 'file', path: 'etc/pulled', mode: 0o644, data: Buffer.from('from the registry\n') }];
  const p = hostPlatform();
  return writeImageLayout(layoutDir, { ref, layers: [base, extra], os: p.os, architecture: p.architecture, config: { Env: ['PATH=/bin'], Cmd: ['cat', '/etc/pulled'] } });
}

describe('ContainerdRuntime pullImage', { timeout: 280_000 }, () => {
  let f: Fixture;
  let registry: LocalRegistry;
  let ref: string;
  let pushed: { manifestDigest: string; configDigest: string };
  before(async () => {
    f = await startFixture();
    registry = await startLocalRegistry({ dataDir: join(f.dir, 'registry'), address: `127.0.0.1:${await freePort()}` });
    ref = `${registry.address}/navarch/two-layers:v1`;
    pushed = await twoLayerImage(join(f.dir, 'two-layers'), ref);
    await new RegistryClient().pushLayout(join(f.dir, 'two-layers'), ref);
  });
  after(async () => {
    await registry?.stop();
    await f?.cleanup();
  });

  it('pulls a two-layer image from a registry and runs it', async () => {
    assert.equal(await f.runtime.imageStatus(ref), undefined);
    const info = await f.runtime.pullImage(ref);
    assert.equal(info.ref, ref);
    assert.equal(info.digest, pushed.manifestDigest);
    assert.equal(info.configDigest, pushed.configDigest);
    assert.deepEqual(info.config.cmd, ['cat', '/etc/pulled']);
    assert.deepEqual(await f.runtime.imageStatus(ref), info);
    const cfg = f.config('pulled', ['cat', '/etc/pulled'], { image: ref });
    await f.runtime.createContainer(cfg);
    await f.runtime.startContainer('pulled');
    assert.equal((await waitForState(f.runtime, 'pulled', 'exited')).exitCode, 0);
    assert.deepEqual(await waitForLog(cfg.logPath, (l) => l.length > 0), ['stdout F from the registry']);
  });

  it('pulls into another namespace of the same containerd, where the blobs already are', async () => {
    const other = await ContainerdRuntime.connect({ socketPath: f.containerd.socketPath, namespace: 'navarch-other', stateDir: join(f.containerd.dir, 'other-state') });
    try {
      const info = await other.pullImage(ref);
      assert.equal(info.digest, pushed.manifestDigest);
      assert.deepEqual(await other.imageStatus(ref), info);
    } finally {
      await other.close();
    }
  });

  it('fails with a message naming the image when the registry does not have it', async () => {
    const missing = `${registry.address}/navarch/nothing:1`;
    await assert.rejects(f.runtime.pullImage(missing), (e: Error) => e.message.includes('navarch/nothing') && /not found|unknown|404/i.test(e.message));
    assert.equal(await f.runtime.imageStatus(missing), undefined);
  });

  it('fails clearly when the registry is unreachable', async () => {
    const nowhere = `127.0.0.1:${await freePort()}/navarch/busybox:latest`;
    await assert.rejects(f.runtime.pullImage(nowhere), (e: Error) => e.message.includes(nowhere.split('/')[0]!));
  });
});
