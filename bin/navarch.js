#!/usr/bin/env -S node --max-semi-space-size=64 --heap-growing-percent=100
// Runs the TypeScript entry point through tsx, resolved from this package. The flags: see NODE_FLAGS in pkg/localcluster/process.ts.
import { register } from 'tsx/esm/api';
register();
await import('../cmd/navarch.ts');
