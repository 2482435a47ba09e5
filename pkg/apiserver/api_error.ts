// The API's one error class. Every failure the core reports is an ApiError with a code from a
// closed set; adapters translate the code once, through ERROR_CODES, into a gRPC status (and later
// an HTTP status and a Kubernetes Status object). Messages follow Kubernetes' wording so users and
// tools that know kubectl recognise them.

import { type FieldError, formatFieldErrors } from '../api/field_errors.js';
import type { KindInfo } from '../api/registry.js';

export type ApiErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Forbidden'
  | 'Unauthorized'
  | 'TooLarge'
  | 'Unavailable'
  | 'Expired'
  | 'TooManyRequests'
  | 'Internal';

export interface ApiErrorCodeInfo {
  /** gRPC status code (grpc.status numbers; the core does not import @grpc/grpc-js). */
  grpc: number;
  http: number;
  /** metav1.StatusReason for a Kubernetes Status object. */
  reason: string;
}

/** The one table from codes to wire numbers. */
export const ERROR_CODES: Readonly<Record<ApiErrorCode, ApiErrorCodeInfo>> = {
  NotFound: { grpc: 5 /* NOT_FOUND */, http: 404, reason: 'NotFound' },
  AlreadyExists: { grpc: 6 /* ALREADY_EXISTS */, http: 409, reason: 'AlreadyExists' },
  Conflict: { grpc: 10 /* ABORTED */, http: 409, reason: 'Conflict' },
  Invalid: { grpc: 3 /* INVALID_ARGUMENT */, http: 422, reason: 'Invalid' },
  Forbidden: { grpc: 7 /* PERMISSION_DENIED */, http: 403, reason: 'Forbidden' },
  Unauthorized: { grpc: 16 /* UNAUTHENTICATED */, http: 401, reason: 'Unauthorized' },
  TooLarge: { grpc: 8 /* RESOURCE_EXHAUSTED */, http: 413, reason: 'RequestEntityTooLarge' },
  Unavailable: { grpc: 14 /* UNAVAILABLE */, http: 503, reason: 'ServiceUnavailable' },
  Expired: { grpc: 11 /* OUT_OF_RANGE */, http: 410, reason: 'Expired' },
  // RESOURCE_EXHAUSTED is TooLarge's (grpc-js reports an oversized message so); the client reads the code from the metadata.
  TooManyRequests: { grpc: 9 /* FAILED_PRECONDITION */, http: 429, reason: 'TooManyRequests' },
  Internal: { grpc: 13 /* INTERNAL */, http: 500, reason: 'InternalError' },
};

export const API_ERROR_CODES = Object.keys(ERROR_CODES) as ApiErrorCode[];

/** What the error is about, as Kubernetes' StatusDetails. */
export interface ApiErrorDetails {
  /** Plural resource, e.g. "pods". */
  resource?: string;
  group?: string;
  kind?: string;
  name?: string;
  uid?: string;
  /** For Invalid: one entry per field problem. */
  causes?: readonly FieldError[];
  /** For Unavailable: when to retry. */
  retryAfterSeconds?: number;
  /** For Unavailable: the write certainly did not take effect (refused before it reached the log), so a retry cannot apply it twice. */
  notApplied?: boolean;
}

export interface ApiErrorOptions extends ApiErrorDetails {
  cause?: unknown;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly details: ApiErrorDetails;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }

  get grpcCode(): number {
    return ERROR_CODES[this.code].grpc;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get reason(): string {
    return ERROR_CODES[this.code].reason;
  }
}

export function isApiError(err: unknown, code?: ApiErrorCode): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

/** "pods" or "deployments.apps", as Kubernetes names a resource in messages. */
export function qualifiedResource(info: KindInfo): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

function about(info: KindInfo, name: string): ApiErrorDetails {
  return { resource: info.resource, group: info.group, kind: info.kind, name };
}

/** `pods "web" not found` */
export function notFound(info: KindInfo, name: string): ApiError {
  return new ApiError('NotFound', `${qualifiedResource(info)} ${JSON.stringify(name)} not found`, about(info, name));
}

/** `pods "web" already exists` */
export function alreadyExists(info: KindInfo, name: string): ApiError {
  return new ApiError('AlreadyExists', `${qualifiedResource(info)} ${JSON.stringify(name)} already exists`, about(info, name));
}

export const CONFLICT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

/** `Operation cannot be fulfilled on pods "web": <why>` */
export function conflict(info: KindInfo, name: string, why: string = CONFLICT_MODIFIED): ApiError {
  return new ApiError('Conflict', `Operation cannot be fulfilled on ${qualifiedResource(info)} ${JSON.stringify(name)}: ${why}`, about(info, name));
}

/** `Pod "web" is invalid: spec.containers[0].image: Required value` */
export function invalid(info: KindInfo, name: string, causes: readonly FieldError[]): ApiError {
  const kind = info.group ? `${info.kind}.${info.group}` : info.kind;
  return new ApiError('Invalid', `${kind} ${JSON.stringify(name)} is invalid: ${formatFieldErrors(causes)}`, { ...about(info, name), causes });
}

/** `pods "web" is forbidden: <why>` */
export function forbidden(info: KindInfo, name: string, why: string, causes: readonly FieldError[] = []): ApiError {
  return new ApiError('Forbidden', `${qualifiedResource(info)} ${JSON.stringify(name)} is forbidden: ${why}`, { ...about(info, name), ...(causes.length ? { causes } : {}) });
}

/** A create refused because its namespace is being deleted (Kubernetes' NamespaceTerminating cause). */
export function isNamespaceTerminating(err: unknown): boolean {
  return isApiError(err, 'Forbidden') && (err.details.causes ?? []).some((c) => c.type === 'NamespaceTerminating');
}

/** A request the server cannot act on as sent (bad selector, bad patch, bad option): Invalid without a kind. */
export function badRequest(message: string, causes: readonly FieldError[] = []): ApiError {
  return new ApiError('Invalid', message, causes.length ? { causes } : {});
}

/** A watch or list from a revision compaction has dropped: relist, then watch from the list's resourceVersion. */
export function expired(requested: number, oldest: number): ApiError {
  return new ApiError('Expired', `too old resource version: ${requested} (${oldest})`);
}

/**
 * Any thrown value as an ApiError, keeping the original as `cause` (tRPC's getTRPCErrorFromUnknown).
 * Unknown failures become Internal; adapters call this at the boundary so nothing else leaks out.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('Internal', `Internal error occurred: ${message}`, { cause: err });
}
