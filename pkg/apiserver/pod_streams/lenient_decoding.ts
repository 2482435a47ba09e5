// Service definitions whose request decoding never throws, for the streaming services (PodStreams on
// the masters, ContainerStreams on the agents). grpc-js answers bytes it cannot decode with INTERNAL
// and no reason, which clients take for a server fault; bad bytes are the caller's error, so the
// handlers see a marker instead and answer Invalid (as the Objects service does).

import { ApiError } from '../api_error.js';

const UNDECODABLE = Symbol('undecodableMessage');

interface MethodDefinition {
  path: string;
  requestDeserialize(b: Buffer): unknown;
}

/** `service` with each request decoder wrapped; `messageName(method)` names the message in errors. */
export function lenientService<S extends Record<string, MethodDefinition>>(service: S, messageName: (method: string) => string): S {
  return Object.fromEntries(
    Object.entries(service).map(([method, d]) => {
      const requestDeserialize = (b: Buffer): unknown => {
        try {
          return d.requestDeserialize(b);
        } catch (err) {
          return { [UNDECODABLE]: `Cannot decode the request as ${messageName(method)}: ${(err as Error).message}` };
        }
      };
      return [method, { ...d, requestDeserialize }];
    }),
  ) as S;
}

/** Throws Invalid for a message lenientService could not decode. */
export function checkDecoded(message: unknown): void {
  const why = typeof message === 'object' && message !== null ? (message as { [UNDECODABLE]?: string })[UNDECODABLE] : undefined;
  if (why !== undefined) throw new ApiError('Invalid', why);
}
