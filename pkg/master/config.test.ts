import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { enabled, resolveMasterFlags } from './config.js';

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-config-'));
  try {
    const path = join(dir, 'master.yaml');
    writeFileSync(path, text);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a YAML config supplies settings, lists join, and flags win', () => {
  withFile('id: 2\ndataDir: /var/lib/navarch\npeers:\n  - 1=127.0.0.1:2380\n  - 2=127.0.0.1:2381\nlistenClient: 127.0.0.1:2379\n', (path) => {
    const f = resolveMasterFlags({ config: path, listenClient: '127.0.0.1:3379' });
    assert.equal(f.id, '2');
    assert.equal(f.dataDir, '/var/lib/navarch');
    assert.equal(f.peers, '1=127.0.0.1:2380,2=127.0.0.1:2381');
    assert.equal(f.listenClient, '127.0.0.1:3379');
  });
});

test('unknown keys and non-mappings are refused by name', () => {
  withFile('id: 1\nlisten-client: x\n', (path) => {
    assert.throws(() => resolveMasterFlags({ config: path }), { message: new RegExp(`^--config: unknown key "listen-client" in "${path}"`) });
  });
  withFile('- a\n- b\n', (path) => {
    assert.throws(() => resolveMasterFlags({ config: path }), { message: `--config: "${path}" is not a YAML mapping` });
  });
  assert.throws(() => resolveMasterFlags({ config: '/nonexistent/master.yaml' }), /^Error: --config: cannot read "\/nonexistent\/master.yaml"/);
});

test('the config file can turn the scheduler and controllers off, and a --no- flag wins over it', () => {
  withFile('scheduler: false\ncontrollers: true\nleaseDurationMs: 5000\n', (path) => {
    const f = resolveMasterFlags({ config: path });
    assert.equal(enabled('scheduler', f.scheduler), false);
    assert.equal(enabled('controllers', f.controllers), true);
    assert.equal(f.leaseDurationMs, '5000');
    assert.equal(enabled('controllers', resolveMasterFlags({ config: path, controllers: false }).controllers), false);
  });
  assert.equal(enabled('scheduler', undefined), true);
  assert.throws(() => enabled('scheduler', 'no'), { message: '--config: "scheduler" must be true or false, got "no"' });
});
