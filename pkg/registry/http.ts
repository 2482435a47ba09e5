// The HTTP side of the registry client: URLs (plain HTTP only for loopback and listed hosts), one
// retry after a 401 with the authorization its challenge asks for, and errors that name the
// registry, the reference, the status and the registry's error code.

import { createHash } from 'node:crypto';
import { realClock, type Clock } from '../../raft/node/ports.js';
import type { RegistryCredential } from '../agent/runtime/runtime.js';
import { basicAuthorization, credentialFor, parseChallenge, readLimitedText, TokenCache } from './auth.js';
import { RegistryError } from './errors.js';
import { DOCKER_HUB, normalizeRegistryHost, type ImageReference } from './reference.js';

export interface RegistryHttpOptions {
  credentials?: readonly RegistryCredential[];
  /** Registries (host or host:port) reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureHosts?: readonly string[];
  /** Deadline for requests other than blob bodies. @default 30000 */
  requestTimeoutMs?: number;
  clock?: Clock;
}

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under https://host/ ("/v2/...") or an absolute URL (upload locations). */
  path: string;
  headers?: Record<string, string>;
  /** A function, so the body can be made again for the retry after a 401. */
  body?: () => NonNullable<RequestInit['body']>;
  /** "pull" or "pull,push": the scope asked for when the challenge names none. */
  actions: string;
  /** Blob transfers have no overall deadline (their size is not bounded by time). */
  noTimeout?: boolean;
  /** Credentials for this request (a pod's pull secrets) in place of the client's. */
  credentials?: readonly RegistryCredential[];
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_REMEMBERED_AUTHORIZATIONS = 256;

function hostOnly(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  return registry.split(':')[0]!;
}

export class RegistryHttp {
  private readonly credentials: readonly RegistryCredential[];
  private readonly insecure: Set<string>;
  private readonly requestTimeoutMs: number;
  private readonly tokens: TokenCache;
  /** The authorization that last worked per registry/repository, sent up front next time. */
  private readonly lastAuth = new Map<string, string>();

  constructor(opts: RegistryHttpOptions = {}) {
    this.credentials = opts.credentials ?? [];
    this.insecure = new Set((opts.insecureHosts ?? []).map(normalizeRegistryHost));
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.tokens = new TokenCache(opts.clock ?? realClock, this.requestTimeoutMs);
  }

  isInsecure(registry: string): boolean {
    const host = hostOnly(registry);
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host) || this.insecure.has(registry) || this.insecure.has(host);
  }

  baseUrl(registry: string): string {
    const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    return `${this.isInsecure(registry) ? 'http' : 'https'}://${host}`;
  }

  /** Sends a request, answering one 401 challenge; any status comes back (callers decide what is an error). */
  async send(ref: ImageReference, req: RegistryRequest): Promise<Response> {
    const url = new URL(req.path, this.baseUrl(ref.registry));
    const credential = credentialFor(req.credentials ?? this.credentials, ref.registry);
    // Keyed by credential too: one pod's pull secret must not open the door for another pod.
    const who = credential ? createHash('sha256').update(JSON.stringify(credential)).digest('hex').slice(0, 16) : 'anonymous';
    const authKey = (actions: string) => `${ref.registry}/${ref.repository}|${who}|${actions}`;
    let authorization = this.lastAuth.get(authKey(req.actions)) ?? this.lastAuth.get(authKey('pull,push'));
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetchOnce(ref, url, req, authorization);
      if (res.status !== 401 || attempt > 0) {
        if (res.status !== 401 && authorization) this.remember(authKey(req.actions), authorization);
        return res;
      }
      const header = res.headers.get('www-authenticate');
      await res.body?.cancel();
      authorization = await this.authorize(ref, credential, header, req.actions);
      if (!authorization) return this.fetchOnce(ref, url, req, undefined);
    }
  }

  private remember(key: string, authorization: string): void {
    this.lastAuth.delete(key);
    if (this.lastAuth.size >= MAX_REMEMBERED_AUTHORIZATIONS) this.lastAuth.delete(this.lastAuth.keys().next().value!);
    this.lastAuth.set(key, authorization);
  }

  private async fetchOnce(ref: ImageReference, url: URL, req: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { ...req.headers };
    if (authorization) headers.authorization = authorization;
    const body = req.body?.();
    try {
      return await fetch(url, {
        method: req.method,
        headers,
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
        ...(req.noTimeout ? {} : { signal: AbortSignal.timeout(this.requestTimeoutMs) }),
      } as RequestInit);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new RegistryError(`Cannot reach registry ${ref.registry} (${url.origin}) for ${ref.full}: ${req.method} ${url.pathname} failed: ${why}`, { registry: ref.registry, reference: ref.full, code: 'UNREACHABLE' }, { cause: e });
    }
  }

  /** The Authorization header a challenge asks for, or undefined when there is nothing to offer. */
  private async authorize(ref: ImageReference, credential: RegistryCredential | undefined, header: string | null, actions: string): Promise<string | undefined> {
    const challenge = header ? parseChallenge(header) : undefined;
    const fail = (why: string, e?: unknown): never => {
      throw new RegistryError(`Cannot authenticate to registry ${ref.registry} for ${ref.full}: ${why}`, { registry: ref.registry, reference: ref.full, status: 401, code: 'UNAUTHORIZED' }, e ? { cause: e } : undefined);
    };
    if (!challenge || challenge.scheme === 'basic') {
      if (!credential) fail('it asks for credentials (Basic) and none are configured for this registry');
      return basicAuthorization(credential!) ?? fail('the credential has neither username/password nor auth');
    }
    if (challenge.scheme !== 'bearer') fail(`unsupported authentication scheme "${challenge.scheme}"`);
    const realm = challenge.params.realm ?? fail('the Bearer challenge has no realm');
    const scope = challenge.params.scope ?? `repository:${ref.repository}:${actions}`;
    try {
      const token = await this.tokens.token({ realm, ...(challenge.params.service ? { service: challenge.params.service } : {}), scope, ...(credential ? { credential } : {}) });
      return `Bearer ${token}`;
    } catch (e) {
      return fail((e as Error).message, e);
    }
  }

  /** The error for an unexpected answer, with the registry's own code and message when it sent them. */
  async errorFrom(res: Response, ref: ImageReference, what: string): Promise<RegistryError> {
    let code: string | undefined;
    let detail = '';
    try {
      const text = await readLimitedText(res, MAX_ERROR_BODY_BYTES);
      const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      const first = body.errors?.[0];
      if (first?.code) code = first.code;
      if (first?.message) detail = first.message;
    } catch {
      // Not the distribution spec's JSON error: the status says enough.
    }
    if (!code && res.status === 401) code = 'UNAUTHORIZED';
    return new RegistryError(`Cannot ${what} ${ref.full}: registry ${ref.registry} answered HTTP ${res.status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`, {
      registry: ref.registry,
      reference: ref.full,
      status: res.status,
      ...(code ? { code } : {}),
    });
  }
}
