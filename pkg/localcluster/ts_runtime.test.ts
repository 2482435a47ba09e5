// bin/ts_runtime.mjs: our processes' TypeScript runtime (tsx, and a hook that drops esbuild's
// per-closure naming from our modules).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, TS_RUNTIME } from './process.js';
// @ts-expect-error: a JavaScript module without types
import { NAME_HELPER, NO_OP_NAME_HELPER, withoutNames } from '../../bin/ts_names_hook.mjs';

function run(flags: readonly string[], script: string): string {
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('the hook swaps only the naming helper, for one of the same length', () => {
  const text = `var __defProp=Object.defineProperty;${NAME_HELPER}const f=__name(()=>1,"f");`;
  const out = withoutNames(text) as string;
  assert.equal(out.length, text.length);
  assert.equal(out, text.replace(NAME_HELPER, NO_OP_NAME_HELPER));
  assert.equal(withoutNames('const g=()=>2;'), 'const g=()=>2;');
});

test('TypeScript modules run under the runtime, their closures unnamed and their stack traces still on the right line', () => {
  const script = `
    import { desiredReplicasAnnotation } from './pkg/controllers/deployment/util.ts';
    import { BTreeMap } from './pkg/store/btree.ts';
    let where = '';
    try { new BTreeMap({ maxNodeKeys: 1 }); } catch (e) { where = /btree\\.ts:(\\d+):/.exec(e.stack)?.[1] ?? e.stack; }
    const rs = { metadata: { annotations: { 'deployment.kubernetes.io/desired-replicas': '3' } } };
    console.log(JSON.stringify([desiredReplicasAnnotation.name, desiredReplicasAnnotation(rs), where]));`;
  const line = readFileSync(join(ROOT, 'pkg/store/btree.ts'), 'utf8').split('\n').findIndex((l) => l.includes('Invalid maxNodeKeys')) + 1;
  assert.deepEqual(JSON.parse(run(TS_RUNTIME, script)), ['', 3, String(line)]);
  // tsx alone names it (esbuild's keepNames): what the hook takes away.
  assert.equal(JSON.parse(run(['--import', 'tsx'], script))[0], 'desiredReplicasAnnotation');
});
