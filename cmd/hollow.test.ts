import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hollowEndpoints, runHollow } from './hollow.js';

describe('navarch hollow flags', () => {
  it('takes --server as host:port[,host:port...] or as a navctl config file', () => {
    assert.deepEqual(hollowEndpoints('127.0.0.1:2379,127.0.0.1:2380'), ['127.0.0.1:2379', '127.0.0.1:2380']);
    const dir = mkdtempSync(join(tmpdir(), 'hollow-flags-'));
    try {
      const file = join(dir, 'navctl.yaml');
      writeFileSync(file, 'apiVersion: navctl.navarch.io/v1\nkind: Config\nendpoints: [127.0.0.1:4001, 127.0.0.1:4002]\n');
      assert.deepEqual(hollowEndpoints(file), ['127.0.0.1:4001', '127.0.0.1:4002']);
      assert.throws(() => hollowEndpoints(join(dir, 'missing.yaml')), /Cannot read navctl config .*missing\.yaml.*no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad values naming the flag and the expected form, before contacting anything', async () => {
    const base = { server: '127.0.0.1:1', nodes: '3' };
    await assert.rejects(runHollow({ ...base, nodes: '0' }), /--nodes: expected an integer from 1 to 100000, got "0"/);
    await assert.rejects(runHollow({ ...base, cpu: 'lots' }), /--cpu: expected a positive quantity such as 4, 500m, 16Gi, got "lots"/);
    await assert.rejects(runHollow({ ...base, memory: '-1Gi' }), /--memory: expected a positive quantity/);
    await assert.rejects(runHollow({ ...base, pods: '1.5' }), /--pods: expected an integer/);
    await assert.rejects(runHollow({ ...base, namePrefix: 'Hollow_' }), /--name-prefix: "Hollow_" cannot start a node name/);
    await assert.rejects(runHollow({ ...base, cidr: '198.18.0.1/15' }), /Invalid --cidr "198\.18\.0\.1\/15": host bits are set/);
    await assert.rejects(runHollow({ ...base, metricsPort: '70000' }), /--metrics-port: expected an integer from 0 to 65535/);
    await assert.rejects(runHollow({ ...base, server: 'nowhere:abc' }), /Cannot read navctl config/);
  });
});
