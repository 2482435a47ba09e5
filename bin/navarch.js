#!/usr/bin/env node
// Runs the TypeScript entry point through tsx, resolved from this package.
import { register } from 'tsx/esm/api';
register();
await import('../cmd/navarch.ts');
