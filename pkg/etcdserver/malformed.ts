// Requests the facade cannot decode. grpc-js answers bytes its deserializer throws on with
// INTERNAL "Error deserializing request" (no reason, and clients retry INTERNAL as a server
// fault); they are the caller's error, so the deserializer hands the handler a marker instead
// and the handler answers INVALID_ARGUMENT naming the method and the decoding problem.

import { status as Code } from '@grpc/grpc-js';
import { grpcError, type GrpcError } from './errors.js';

const MALFORMED = Symbol('malformedRequest');

type Marker = { [MALFORMED]: string };

/** Wraps a request deserializer so that it never throws (see malformedRequest). */
export function safeDeserialize(service: string, method: string, messageName: string, decode: (b: Buffer) => object): (b: Buffer) => object {
  return (b: Buffer): object => {
    try {
      return decode(b);
    } catch (err) {
      const marker: Marker = { [MALFORMED]: `Cannot decode the ${service}.${method} request as ${messageName}: ${(err as Error).message}` };
      return marker;
    }
  };
}

/** The INVALID_ARGUMENT error for a request safeDeserialize could not decode; undefined for a decoded one. */
export function malformedRequest(request: unknown): GrpcError | undefined {
  const why = typeof request === 'object' && request !== null ? (request as Partial<Marker>)[MALFORMED] : undefined;
  return why === undefined ? undefined : grpcError(Code.INVALID_ARGUMENT, why);
}
