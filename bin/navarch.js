#!/usr/bin/env -S node --max-semi-space-size=64
// Runs the TypeScript entry point through tsx (see ts_runtime.mjs), resolved from this package. The flag: see NODE_FLAGS in pkg/localcluster/process.ts.
import './ts_runtime.mjs';
await import('../cmd/navarch.ts');
