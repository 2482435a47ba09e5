import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Pod } from '../../../gen/navarch/api/v1/core.js';
import { FsLogDirs } from './log_dirs.js';

const pod = (name: string, uid: string): Pod => ({ metadata: { name, namespace: 'ns', uid, labels: {}, annotations: {}, ownerReferences: [], finalizers: [] } });

describe('FsLogDirs', () => {
  it('lays logs out as <podsDir>/<namespace>_<name>_<uid>/<container>/<attempt>.log and removes orphans only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'navarch-logs-'));
    try {
      const logs = new FsLogDirs(dir);
      const path = await logs.prepare(pod('web', 'u1'), 'app', 3);
      assert.equal(path, join(dir, 'ns_web_u1', 'app', '3.log'));
      assert.ok((await stat(join(dir, 'ns_web_u1', 'app'))).isDirectory());
      await logs.prepare(pod('old', 'u2'), 'app', 0);
      await writeFile(join(dir, 'unrelated'), 'x');
      await logs.removeOrphans(new Set(['u1']));
      assert.deepEqual((await readdir(dir)).sort(), ['ns_web_u1', 'unrelated']);
      await logs.removePod('ns', 'web', 'u1');
      assert.deepEqual(await readdir(dir), ['unrelated']);
      await new FsLogDirs(join(dir, 'absent')).removeOrphans(new Set());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
