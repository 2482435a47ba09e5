// resourceVersion strings: the store revision in decimal; "" and "0" mean "the current state".

import { badRequest } from './api_error.js';

export function parseResourceVersion(rv: string | undefined): number {
  if (rv === undefined || rv === '' || rv === '0') return 0;
  if (!/^[1-9][0-9]{0,15}$/.test(rv) || !Number.isSafeInteger(Number(rv))) {
    throw badRequest(`Invalid resourceVersion ${JSON.stringify(rv)}: expected a positive decimal integer`);
  }
  return Number(rv);
}
