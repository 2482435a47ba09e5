import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jemallocEnv, jemallocPath } from './allocator.js';

const JE = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

test('jemallocPath finds Debian\'s multiarch library for the architecture, else nothing', () => {
  const only = (path: string) => (p: string) => p === path;
  assert.equal(jemallocPath('x64', only(JE)), JE);
  assert.equal(jemallocPath('arm64', only('/usr/lib/aarch64-linux-gnu/libjemalloc.so.2')), '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2');
  // The x86 library is no use to an arm64 process.
  assert.equal(jemallocPath('arm64', only(JE)), undefined);
  assert.equal(jemallocPath('x64', () => false), undefined);
});

test('jemallocEnv preloads the library with a purging thread, unless the caller chose a preload or it is missing', () => {
  assert.deepEqual(jemallocEnv({}, () => JE), { LD_PRELOAD: JE, MALLOC_CONF: 'background_thread:true' });
  assert.deepEqual(jemallocEnv({ MALLOC_CONF: 'narenas:2' }, () => JE), { LD_PRELOAD: JE, MALLOC_CONF: 'narenas:2' });
  assert.deepEqual(jemallocEnv({ LD_PRELOAD: '/opt/tcmalloc.so' }, () => JE), {});
  assert.deepEqual(jemallocEnv({}, () => undefined), {});
});
