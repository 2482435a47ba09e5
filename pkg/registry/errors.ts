// One error class for registry failures, carrying what a caller (or a pod's waiting message) needs:
// which registry, which reference, the HTTP status and the registry's own error code.

export interface RegistryErrorDetails {
  registry: string;
  reference: string;
  /** HTTP status, when the registry answered. */
  status?: number;
  /** The distribution spec's error code (MANIFEST_UNKNOWN, UNAUTHORIZED, ...) or ours (DIGEST_MISMATCH, TOO_LARGE, UNREACHABLE). */
  code?: string;
}

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly registry: string;
  readonly reference: string;
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(message: string, details: RegistryErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.registry = details.registry;
    this.reference = details.reference;
    this.status = details.status;
    this.code = details.code;
  }
}

/** True for "the image or tag is not there" (as opposed to an outage or an auth problem). */
export function isNotFoundError(e: unknown): boolean {
  return e instanceof RegistryError && e.status === 404;
}
