import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../pkg/client/mod.js';
import { dryRunSuffix, formatError, parseDryRun, parseDuration } from './session.js';

test('formatError() prints server errors as kubectl does, with their reason', () => {
  assert.equal(formatError(new ApiError('NotFound', 'pods "x" not found')), 'Error from server (NotFound): pods "x" not found');
  assert.equal(formatError(new ApiError('TooLarge', 'too big'), 'error when creating "a.yaml": '), 'Error from server (RequestEntityTooLarge): error when creating "a.yaml": too big');
  assert.equal(formatError(new ApiError('Unavailable', 'Cannot reach master 127.0.0.1:1: connect ECONNREFUSED')), 'Unable to connect to the server: Cannot reach master 127.0.0.1:1: connect ECONNREFUSED');
  assert.equal(formatError(new Error('bad flag')), 'error: bad flag');
});

test('parseDuration() reads kubectl durations and names a bad one', () => {
  assert.equal(parseDuration('--timeout', '0'), 0);
  assert.equal(parseDuration('--timeout', '30'), 30_000);
  assert.equal(parseDuration('--timeout', '250ms'), 250);
  assert.equal(parseDuration('--timeout', '2m'), 120_000);
  assert.throws(() => parseDuration('--request-timeout', '5 minutes'), /Invalid --request-timeout "5 minutes": expected a duration/);
});

test('parseDryRun() takes kubectl\'s --dry-run forms', () => {
  assert.equal(parseDryRun(undefined), 'none');
  assert.equal(parseDryRun(true), 'client');
  assert.equal(parseDryRun('server'), 'server');
  assert.equal(dryRunSuffix('server'), ' (server dry run)');
  assert.throws(() => parseDryRun('maybe'), /Invalid --dry-run "maybe": expected none, client or server/);
});
