import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jemallocPath } from './allocator.js';
import { HEAP_FLAGS, ROOT, spawnLogged } from './process.js';

/** Runs a child through spawnLogged that prints which malloc it loaded; returns its output. */
async function allocatorOfChild(options?: { jemalloc?: boolean }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-process-'));
  try {
    const log = join(dir, 'child.log');
    const code = "const m = require('fs').readFileSync('/proc/self/maps', 'utf8'); console.log(m.includes('libjemalloc') ? 'jemalloc' : 'glibc', process.env.MALLOC_ARENA_MAX)";
    const child = spawnLogged(['-e', code], log, false, options);
    const exited = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(exited, 0, readFileSync(log, 'utf8'));
    return readFileSync(log, 'utf8').trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a spawned server runs on jemalloc where libjemalloc2 is installed, with glibc settings kept for the fallback', async (t) => {
  if (process.env.LD_PRELOAD) return t.skip('this test process already has a preload, which children inherit');
  const expected = jemallocPath() ? 'jemalloc' : 'glibc';
  assert.equal(await allocatorOfChild(), `${expected} ${process.env.MALLOC_ARENA_MAX ?? '2'}`);
});

test('a child spawned without jemalloc (the agent) keeps glibc malloc, even when its parent runs on jemalloc', async (t) => {
  if (process.env.LD_PRELOAD) return t.skip('this test process already has a preload, which children inherit');
  assert.equal(await allocatorOfChild({ jemalloc: false }), `glibc ${process.env.MALLOC_ARENA_MAX ?? '2'}`);
  const path = jemallocPath();
  if (path === undefined) return;
  process.env.LD_PRELOAD = path;
  process.env.MALLOC_CONF = 'background_thread:true';
  try {
    assert.equal(await allocatorOfChild({ jemalloc: false }), `glibc ${process.env.MALLOC_ARENA_MAX ?? '2'}`);
    assert.equal(await allocatorOfChild(), `jemalloc ${process.env.MALLOC_ARENA_MAX ?? '2'}`);
  } finally {
    delete process.env.LD_PRELOAD;
    delete process.env.MALLOC_CONF;
  }
});

test('bin/navarch.js starts node with the same heap flags as the servers spawned here', () => {
  const shebang = readFileSync(join(ROOT, 'bin/navarch.js'), 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${HEAP_FLAGS.join(' ')}`);
});
