// A failed call as the caller should see it: the server's ApiError (code and details travel in the
// status metadata), or Unavailable when no member answered. `reached` tells the client whether the
// request may have arrived, which decides whether a write can be retried safely.

import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { API_ERROR_CODES, ApiError, type ApiErrorCode, type ApiErrorDetails } from '../apiserver/api_error.js';
import { ERROR_CODE_METADATA, ERROR_DETAILS_METADATA } from '../apiserver/grpc_adapter.js';

export interface CallFailure {
  error: ApiError;
  /** The server answered with an API error (not a transport failure). */
  fromServer: boolean;
  /** The request certainly had no effect: nothing was sent, or the server says it was refused before its log. */
  notApplied: boolean;
}

export function parseDetails(raw: unknown): ApiErrorDetails {
  if (typeof raw !== 'string') return {};
  try {
    const d = JSON.parse(raw) as unknown;
    return typeof d === 'object' && d !== null && !Array.isArray(d) ? (d as ApiErrorDetails) : {};
  } catch {
    return {};
  }
}

export function classify(err: unknown, endpoint: string): CallFailure {
  const e = err as Partial<ServiceError>;
  const apiCode = e.metadata?.get(ERROR_CODE_METADATA)[0];
  if (typeof apiCode === 'string' && (API_ERROR_CODES as string[]).includes(apiCode)) {
    const details = parseDetails(e.metadata?.get(ERROR_DETAILS_METADATA)[0]);
    const error = new ApiError(apiCode as ApiErrorCode, e.details ?? String(err), { ...details, cause: err });
    return { error, fromServer: true, notApplied: details.notApplied === true };
  }
  const details = typeof e.details === 'string' ? e.details : String(err);
  // grpc-js reports a request it never sent as UNAVAILABLE "No connection established".
  const neverSent = e.code === Code.UNAVAILABLE && details.startsWith('No connection established');
  if (e.code === Code.DEADLINE_EXCEEDED) {
    return { error: new ApiError('Unavailable', `Master ${endpoint} did not answer in time (${details}); a write may still take effect`, { retryAfterSeconds: 1, cause: err }), fromServer: false, notApplied: false };
  }
  if (e.code === Code.UNAVAILABLE || e.code === Code.CANCELLED || e.code === Code.INTERNAL || e.code === Code.UNKNOWN) {
    return { error: new ApiError('Unavailable', `Cannot reach master ${endpoint}: ${details}`, { retryAfterSeconds: 1, notApplied: neverSent, cause: err }), fromServer: false, notApplied: neverSent };
  }
  // Any other status (e.g. RESOURCE_EXHAUSTED for a message over the size limit) is the server's answer.
  const code: ApiErrorCode = e.code === Code.RESOURCE_EXHAUSTED ? 'TooLarge' : e.code === Code.INVALID_ARGUMENT ? 'Invalid' : 'Internal';
  return { error: new ApiError(code, details, { cause: err }), fromServer: true, notApplied: false };
}

/** One item's error as a batch answer carries it (code, message, details JSON). */
export function itemError(code: string, message: string, details: string): ApiError {
  const known = (API_ERROR_CODES as string[]).includes(code);
  return new ApiError(known ? (code as ApiErrorCode) : 'Internal', known ? message : `${message} (unknown error code ${JSON.stringify(code)})`, parseDetails(details));
}

/** gRPC UNIMPLEMENTED as a failed call's cause: a master from before the method (BindBatch, CreateBatch). */
export function isUnimplemented(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === Code.UNIMPLEMENTED;
}
