// Registry authentication: Basic from the credential for the host, or the token flow a
// WWW-Authenticate: Bearer challenge asks for (GET realm?service=&scope= with Basic credentials, or a
// POST with the identity token as an OAuth2 refresh token). Tokens are cached until they expire.

import type { Clock } from '../../raft/node/ports.js';
import type { RegistryCredential } from '../agent/runtime/runtime.js';
import { normalizeRegistryHost } from './reference.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The credential for a registry host, matching the normalised host names. */
export function credentialFor(credentials: readonly RegistryCredential[], registry: string): RegistryCredential | undefined {
  const want = normalizeRegistryHost(registry);
  return credentials.find((c) => normalizeRegistryHost(c.registry) === want);
}

/** "user:password" as the Basic scheme sends it, from username/password or the base64 `auth` field. */
export function basicAuthorization(c: RegistryCredential): string | undefined {
  if (c.username !== undefined && c.password !== undefined) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  if (c.auth) return `Basic ${c.auth}`;
  return undefined;
}

export interface TokenRequest {
  realm: string;
  service?: string;
  scope: string;
  credential?: RegistryCredential;
}

const MAX_TOKEN_RESPONSE_BYTES = 1 << 20;
const MAX_CACHED_TOKENS = 128;
const DEFAULT_TOKEN_LIFETIME_SEC = 60;

/** Fetches bearer tokens and keeps each until shortly before it expires. */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAtMs: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly requestTimeoutMs: number,
  ) {}

  async token(req: TokenRequest): Promise<string> {
    const key = `${req.realm}|${req.service ?? ''}|${req.scope}|${req.credential?.username ?? req.credential?.auth ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAtMs > this.clock.nowMs()) return cached.token;
    const { token, lifetimeSec } = await this.fetchToken(req);
    if (this.tokens.size >= MAX_CACHED_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
    // Renew a little early so a token never expires between the check and the request.
    this.tokens.set(key, { token, expiresAtMs: this.clock.nowMs() + Math.max(0, lifetimeSec - 10) * 1000 });
    return token;
  }

  private async fetchToken(req: TokenRequest): Promise<{ token: string; lifetimeSec: number }> {
    let url: URL;
    try {
      url = new URL(req.realm);
    } catch {
      throw new Error(`Cannot get a registry token: the challenge's realm "${req.realm}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`Cannot get a registry token: realm "${req.realm}" is not http(s)`);
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    let res: Response;
    if (req.credential?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: req.credential.identityToken, client_id: 'navarch', scope: req.scope });
      if (req.service) form.set('service', req.service);
      res = await fetch(url, { method: 'POST', body: form, signal });
    } else {
      if (req.service) url.searchParams.set('service', req.service);
      url.searchParams.set('scope', req.scope);
      const basic = req.credential ? basicAuthorization(req.credential) : undefined;
      res = await fetch(url, { headers: basic ? { authorization: basic } : {}, signal });
    }
    const text = await readLimitedText(res, MAX_TOKEN_RESPONSE_BYTES);
    if (!res.ok) throw new Error(`Cannot get a registry token from ${url.origin}${url.pathname}: HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`Cannot get a registry token from ${url.origin}${url.pathname}: the answer is not JSON`);
    }
    const token = typeof body.token === 'string' && body.token ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    if (!token) throw new Error(`Cannot get a registry token from ${url.origin}${url.pathname}: the answer has no token or access_token`);
    const lifetimeSec = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_SEC;
    return { token, lifetimeSec };
  }
}

/** A response body as text, refusing more than maxBytes. */
export async function readLimitedText(res: Response, maxBytes: number): Promise<string> {
  return (await readLimited(res, maxBytes)).toString('utf8');
}

/** A response body, refusing (and cancelling) one over maxBytes; never buffers more than that. */
export async function readLimited(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new RangeError(`the body is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new RangeError(`the body is over the ${maxBytes}-byte limit`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}
