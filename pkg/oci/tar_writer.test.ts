import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tarChunks, tarHeader, type TarEntry } from './tar_writer.js';

const run = promisify(execFile);

async function withTmp(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'navarch-tar-'));
  try {
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeTar(path: string, entries: TarEntry[]): Promise<Buffer> {
  await pipeline(tarChunks(entries), createWriteStream(path));
  return readFile(path);
}

describe('tar writer', () => {
  it('writes dirs, files (from memory and disk), symlinks and long paths that GNU tar reads back exactly', async () => {
    await withTmp(async (dir) => {
      const src = join(dir, 'src.bin');
      const big = Buffer.alloc(70_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await writeFile(src, big);
      const longDir = `deep/${'d'.repeat(90)}/${'e'.repeat(40)}`;
      const entries: TarEntry[] = [
        { type: 'dir', path: 'bin', mode: 0o755 },
        { type: 'dir', path: '/tmp', mode: 0o1777 },
        { type: 'file', path: 'bin/tool', mode: 0o755, sourcePath: src, sizeBytes: big.length },
        { type: 'file', path: './etc/empty', mode: 0o600, data: Buffer.alloc(0) },
        { type: 'file', path: 'etc/hello', mode: 0o644, data: Buffer.from('hello\n'), uid: 65534, gid: 65534 },
        { type: 'symlink', path: 'bin/sh', target: '/bin/tool' },
        { type: 'dir', path: 'deep', mode: 0o755 },
        { type: 'dir', path: `deep/${'d'.repeat(90)}`, mode: 0o755 },
        { type: 'dir', path: longDir, mode: 0o755 },
        { type: 'file', path: `${longDir}/file.txt`, mode: 0o644, data: Buffer.from('deep') },
      ];
      const tarPath = join(dir, 'out.tar');
      const bytes = await writeTar(tarPath, entries);
      assert.equal(bytes.length % 512, 0);

      const { stdout } = await run('tar', ['--numeric-owner', '-tvf', tarPath]);
      const lines = stdout.trim().split('\n').map((l) => l.split(/\s+/));
      const summary = lines.map((f) => `${f[0]} ${f[1]} ${f[2]} ${f.slice(5).join(' ')}`);
      assert.deepEqual(summary, [
        'drwxr-xr-x 0/0 0 bin/',
        'drwxrwxrwt 0/0 0 tmp/',
        `-rwxr-xr-x 0/0 ${big.length} bin/tool`,
        '-rw------- 0/0 0 etc/empty',
        '-rw-r--r-- 65534/65534 6 etc/hello',
        'lrwxrwxrwx 0/0 0 bin/sh -> /bin/tool',
        'drwxr-xr-x 0/0 0 deep/',
        `drwxr-xr-x 0/0 0 deep/${'d'.repeat(90)}/`,
        `drwxr-xr-x 0/0 0 ${longDir}/`,
        `-rw-r--r-- 0/0 4 ${longDir}/file.txt`,
      ]);

      const out = join(dir, 'x');
      await run('mkdir', [out]);
      await run('tar', ['-xf', tarPath, '-C', out]);
      assert.deepEqual(await readFile(join(out, 'bin/tool')), big);
      assert.equal(await readFile(join(out, 'etc/hello'), 'utf8'), 'hello\n');
      assert.equal(await readFile(join(out, longDir, 'file.txt'), 'utf8'), 'deep');
      assert.equal(await readlink(join(out, 'bin/sh')), '/bin/tool');
      assert.equal((await stat(join(out, 'bin/tool'))).mode & 0o7777, 0o755);
    });
  });

  it('gives the same bytes for the same entries', async () => {
    await withTmp(async (dir) => {
      const entries: TarEntry[] = [
        { type: 'dir', path: 'a', mode: 0o755 },
        { type: 'file', path: 'a/b', mode: 0o644, data: Buffer.from('b') },
      ];
      const one = await writeTar(join(dir, '1.tar'), entries);
      const two = await writeTar(join(dir, '2.tar'), entries);
      assert.deepEqual(one, two);
    });
  });

  it('refuses paths that escape or do not fit, naming the entry', () => {
    assert.throws(() => tarHeader({ type: 'dir', path: 'a/../b', mode: 0o755 }), /"a\/\.\.\/b".*\.\./);
    assert.throws(() => tarHeader({ type: 'dir', path: '', mode: 0o755 }), /non-empty/);
    assert.throws(() => tarHeader({ type: 'file', path: 'x'.repeat(120), mode: 0o644, data: Buffer.alloc(0) }), /too long for ustar/);
    assert.throws(() => tarHeader({ type: 'symlink', path: 'l', target: 't'.repeat(101) }), /"l": symlink target is 101 bytes/);
  });

  it('fails when a file on disk no longer has the size it was listed with', async () => {
    await withTmp(async (dir) => {
      const src = join(dir, 'f');
      await writeFile(src, 'four');
      await assert.rejects(writeTar(join(dir, 'o.tar'), [{ type: 'file', path: 'f', mode: 0o644, sourcePath: src, sizeBytes: 9 }]), /changed size.*expected 9 bytes, read 4/);
    });
  });
});
