import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { indexTar } from './tar_index.js';

describe('indexTar', () => {
  it('finds each regular file of a GNU and a pax tar, long names included, at its byte offset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'navarch-tar-'));
    try {
      const long = `blobs/sha256/${'d'.repeat(64)}/${'n'.repeat(120)}`;
      mkdirSync(join(dir, 'src', long, '..'), { recursive: true });
      writeFileSync(join(dir, 'src', 'index.json'), '{"a":1}');
      writeFileSync(join(dir, 'src', long), 'x'.repeat(1500));
      for (const format of ['gnu', 'pax']) {
        const tar = join(dir, `${format}.tar`);
        execFileSync('tar', ['--format', format, '-cf', tar, '-C', join(dir, 'src'), '.']);
        const entries = await indexTar(tar);
        const bytes = readFileSync(tar);
        const at = (p: string) => {
          const e = entries.get(p);
          assert.ok(e, `${format}: ${p} missing`);
          return bytes.subarray(e.offset, e.offset + e.sizeBytes).toString();
        };
        assert.equal(at('index.json'), '{"a":1}');
        assert.equal(at(long), 'x'.repeat(1500));
        assert.equal([...entries.keys()].length, 2, format);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a truncated archive, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'navarch-tar-'));
    try {
      writeFileSync(join(dir, 'f'), 'y'.repeat(4000));
      const tar = join(dir, 'a.tar');
      execFileSync('tar', ['-cf', tar, '-C', dir, 'f']);
      writeFileSync(join(dir, 'cut.tar'), readFileSync(tar).subarray(0, 1024));
      await assert.rejects(indexTar(join(dir, 'cut.tar')), /Cannot read tar archive .*cut\.tar: entry at byte 0 runs past the end/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
