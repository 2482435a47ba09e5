import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatScript, runScript, scriptComments } from '../testing/script.js';

const dir = join(import.meta.dirname, '..', 'testdata');

for (const name of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`golden script ${name} produces its recorded output`, () => {
    const path = join(dir, name);
    const text = readFileSync(path, 'utf8');
    const { blocks, actual } = runScript(text);
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(path, formatScript(actual, scriptComments(text)));
      return;
    }
    for (let i = 0; i < blocks.length; i++) {
      assert.equal(actual[i].expected, blocks[i].expected, `${name}: output of "${blocks[i].command}" differs (UPDATE_GOLDEN=1 rewrites it)`);
    }
  });
}
