import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Table } from './table.js';

test('Table pads every column but the last to its widest cell plus three spaces', () => {
  const out = new Table(['NAME', 'READY', 'STATUS']).render([
    ['web-1', '1/1', 'Running'],
    ['a', '0/1', 'Pending'],
  ]);
  assert.equal(out, 'NAME    READY   STATUS\nweb-1   1/1     Running\na       0/1     Pending\n');
});

test('Table.line() keeps the widths it has fitted for rows printed later (watch)', () => {
  const t = new Table(['NAME', 'AGE']).fit([['short', '1s']]);
  assert.equal(t.header(), 'NAME    AGE\n');
  assert.equal(t.line(['a-much-longer-name', '2s']), 'a-much-longer-name   2s\n');
});
