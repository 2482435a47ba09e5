// Starts election_worker.ts on the election thread. A worker does not inherit tsx's hooks when the
// main thread registered them in code (bin/navarch.js does), so it registers its own.
import { register } from 'tsx/esm/api';

register();
await import('./election_worker.ts');
