import assert from 'node:assert/strict';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FifoPool, LogCopier, makeFifos } from './io.js';

describe('LogCopier', () => {
  it('writes CRI records per line, splits long lines into P records, and ends when the writer is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'navarch-io-'));
    try {
      const paths = await makeFifos(join(dir, 'fifos'), { stdin: false, stderr: true }, new FifoPool(join(dir, 'pool'), 2));
      const logPath = join(dir, 'c.log');
      const copier = new LogCopier(paths, logPath, { keepOpen: true, nowMs: () => Date.UTC(2026, 11, 2, 12, 0, 0, 5) });
      // What the shim does: open the write ends, write, close on exit.
      const out = openSync(paths.stdout, constants.O_WRONLY);
      const err = openSync(paths.stderr!, constants.O_WRONLY);
      writeSync(out, 'first\nsec');
      writeSync(out, 'ond\n' + 'x'.repeat(20_000) + '\n' + 'no newline at the end');
      writeSync(err, 'oops\n');
      closeSync(out);
      closeSync(err);
      copier.release();
      await copier.done;
      const lines = (await readFile(logPath, 'utf8')).split('\n').filter((l) => l);
      const ts = '2026-12-02T12:00:00.005000000Z';
      const stdout = lines.filter((l) => l.includes(' stdout '));
      assert.deepEqual(stdout, [
        `${ts} stdout F first`,
        `${ts} stdout F second`,
        `${ts} stdout P ${'x'.repeat(16_384)}`,
        `${ts} stdout F ${'x'.repeat(20_000 - 16_384)}`,
        `${ts} stdout F no newline at the end`,
      ]);
      assert.deepEqual(lines.filter((l) => l.includes(' stderr ')), [`${ts} stderr F oops`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('appends to an existing log file (a restarted agent carries on the same file)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'navarch-io-'));
    try {
      const logPath = join(dir, 'c.log');
      const pool = new FifoPool(join(dir, 'pool'), 1);
      for (const word of ['one', 'two']) {
        const paths = await makeFifos(join(dir, word), { stdin: false, stderr: false }, pool);
        const copier = new LogCopier(paths, logPath, { keepOpen: true, nowMs: () => 0 });
        const fd = openSync(paths.stdout, constants.O_WRONLY);
        writeSync(fd, `${word}\n`);
        closeSync(fd);
        copier.release();
        await copier.done;
      }
      assert.deepEqual((await readFile(logPath, 'utf8')).split('\n').filter((l) => l).map((l) => l.split(' ').slice(1).join(' ')), ['stdout F one', 'stdout F two']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
