// A patch that is malformed or does not apply. The API core reports it as Invalid.

export class PatchError extends Error {
  override name = 'PatchError';
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
