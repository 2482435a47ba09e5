// TypeScript for Navarch's processes: tsx's ES module hooks, then ours on what they make of our
// own modules (ts_names_hook.mjs). `node --import ./bin/ts_runtime.mjs entry.ts` runs a TypeScript
// entry point as `node --import tsx entry.ts` does, for ES modules.

import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered last, so called first: it hands each module to tsx and changes what comes back.
register('./ts_names_hook.mjs', import.meta.url);
