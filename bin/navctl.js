#!/usr/bin/env node
import './ts_runtime.mjs';
await import('../cmd/navctl.ts');
