import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listAttempts, pickAttempt, tailOffset } from './log_files.js';
import { parseRecord, parseTimeMs } from './log_record.js';

async function tailOf(text: string, lines: number, blockBytes: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-tail-'));
  try {
    const p = join(dir, 'f');
    writeFileSync(p, text);
    const fh = await open(p, 'r');
    try {
      return text.slice(await tailOffset(fh, Buffer.byteLength(text), lines, blockBytes));
    } finally {
      await fh.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tailOffset finds the last N lines whatever the block size, with or without a final newline', async () => {
  const text = 'one\ntwo\nthree\nfour\n';
  for (const block of [1, 2, 3, 5, 64]) {
    assert.equal(await tailOf(text, 1, block), 'four\n', `block ${block}`);
    assert.equal(await tailOf(text, 2, block), 'three\nfour\n', `block ${block}`);
    assert.equal(await tailOf(text, 4, block), text, `block ${block}`);
    assert.equal(await tailOf(text, 10, block), text, `block ${block}`);
    assert.equal(await tailOf(text, 0, block), '', `block ${block}`);
    assert.equal(await tailOf('a\nb\nunfinished', 2, block), 'b\nunfinished', `block ${block}`);
  }
  assert.equal(await tailOf('', 3, 4), '');
});

test('attempts are ordered by number, and previous is the one before the newest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-attempts-'));
  try {
    for (const n of ['10.log', '2.log', '9.log', 'notes.txt']) writeFileSync(join(dir, n), '');
    const a = await listAttempts(dir);
    assert.deepEqual(a.map((x) => x.attempt), [2, 9, 10]);
    assert.equal(pickAttempt(a, false)?.attempt, 10);
    assert.equal(pickAttempt(a, true)?.attempt, 9);
    assert.equal(pickAttempt(a.slice(0, 1), true), undefined);
    assert.deepEqual(await listAttempts(join(dir, 'missing')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CRI log line parses into time, stream, partial flag and text; other lines do not', () => {
  const r = parseRecord(Buffer.from('2026-12-02T12:17:34.123456789Z stderr P half a line'));
  assert.equal(r?.stream, 'stderr');
  assert.equal(r?.partial, true);
  assert.equal(r?.text.toString(), 'half a line');
  assert.equal(r?.timeMs, Date.UTC(2026, 11, 2, 12, 17, 34, 123));
  assert.equal(parseRecord(Buffer.from('2026-12-02T12:17:34Z stdout F '))?.text.toString(), '');
  assert.equal(parseRecord(Buffer.from('just some text')), undefined);
  assert.equal(parseRecord(Buffer.from('2026-12-02T12:17:34Z stdin F x')), undefined);
  assert.ok(Number.isNaN(parseTimeMs('yesterday')));
});
