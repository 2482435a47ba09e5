import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../raft/transport/free_port.js';
import { RegistryClient } from '../pkg/registry/client.js';
import { registryAnswers, stopLocalRegistry } from '../pkg/registry/local_registry.js';
import { runImages } from './images.js';

describe('navarch images', () => {
  it('starts a registry when none answers, pushes busybox to it, and on a second run reuses both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'navarch-images-'));
    const registry = `127.0.0.1:${await freePort()}`;
    try {
      const lines: string[] = [];
      await runImages({ dir, registry, push: true }, (l) => lines.push(l));
      assert.match(lines[0]!, new RegExp(`^built ${registry}/navarch/busybox:latest from /bin/busybox: manifest sha256:`));
      assert.match(lines[2]!, /^started docker-registry at http:\/\/127\.0\.0\.1:\d+ \(pid \d+/);
      assert.match(lines[3]!, /^pushed .*: 2 blob\(s\) uploaded, 0 already there$/);
      assert.ok((await stat(join(dir, 'images', 'busybox.oci.tar'))).size > 500_000);
      const resolved = await new RegistryClient().resolve(`${registry}/navarch/busybox:latest`);
      assert.ok(lines[0]!.includes(resolved.digest));

      const again: string[] = [];
      await runImages({ dir, registry, push: true }, (l) => again.push(l));
      assert.equal(again[0], lines[0], 'the same image, digest for digest');
      assert.match(again[2]!, /already running: using it/);
      assert.match(again[3]!, /0 blob\(s\) uploaded, 2 already there$/);
    } finally {
      await stopLocalRegistry(join(dir, 'registry'));
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(await registryAnswers(registry), false);
  });
});
