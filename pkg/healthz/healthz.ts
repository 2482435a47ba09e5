// /healthz, /livez and /readyz as Kubernetes components serve them (k8s.io/apiserver's healthz):
// "ok" when every check passes; with ?verbose one "[+]name ok" line per check and "<endpoint> check
// passed"; on a failure status 500 with every check's line, "[-]name failed: <reason>" for the
// failing ones, and "<endpoint> check failed". /readyz/<name> runs one check; ?exclude=<name> skips
// one. Unlike Kubernetes, which writes "reason withheld", the reason is given: these endpoints are
// served on the metrics address, for the operator.

import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HealthCheck {
  name: string;
  /** undefined when healthy, else why not. */
  check(): string | undefined;
}

/** The checks behind each endpoint, e.g. { livez: [...], readyz: [...], healthz: [...] }. */
export type HealthEndpoints = Readonly<Partial<Record<'healthz' | 'livez' | 'readyz', readonly HealthCheck[]>>>;

export const PING: HealthCheck = { name: 'ping', check: () => undefined };

export interface HealthAnswer {
  status: number;
  body: string;
}

/** The answer for a GET of `url`, or undefined when the path is none of the endpoints. */
export function healthAnswer(url: string, endpoints: HealthEndpoints): HealthAnswer | undefined {
  // Split by hand: new URL() throws on a request path such as "//".
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const [root, endpoint, single, extra] = (q < 0 ? url : url.slice(0, q)).split('/');
  if (root !== '') return undefined;
  if (endpoint !== 'healthz' && endpoint !== 'livez' && endpoint !== 'readyz') return undefined;
  const checks = endpoints[endpoint];
  if (checks === undefined || extra !== undefined) return undefined;
  if (single !== undefined && single !== '') {
    const c = checks.find((x) => x.name === single);
    if (c === undefined) return { status: 404, body: `no such ${endpoint} check "${single}"\n` };
    const reason = run(c);
    return reason === undefined ? { status: 200, body: 'ok' } : { status: 500, body: `internal server error: ${reason}\n` };
  }
  const excluded = new Set(params.getAll('exclude'));
  const lines: string[] = [];
  let failed = false;
  for (const c of checks) {
    if (excluded.has(c.name)) {
      lines.push(`[+]${c.name} excluded: ok`);
      continue;
    }
    const reason = run(c);
    if (reason !== undefined) failed = true;
    lines.push(reason === undefined ? `[+]${c.name} ok` : `[-]${c.name} failed: ${reason}`);
  }
  for (const name of excluded) if (!checks.some((c) => c.name === name)) lines.push(`warn: some health checks cannot be excluded: no matches for "${name}"`);
  if (failed) return { status: 500, body: `${lines.join('\n')}\n${endpoint} check failed\n` };
  if (!params.has('verbose')) return { status: 200, body: 'ok' };
  return { status: 200, body: `${lines.join('\n')}\n${endpoint} check passed\n` };
}

/** A check that throws fails with its message: a broken check must not take the endpoint down. */
function run(c: HealthCheck): string | undefined {
  try {
    return c.check();
  } catch (e) {
    return (e as Error)?.message ?? String(e);
  }
}

/** Answers the request if it is for a health endpoint; false otherwise (the caller goes on). */
export function serveHealth(req: IncomingMessage, res: ServerResponse, endpoints: HealthEndpoints): boolean {
  if (req.method !== 'GET' || req.url === undefined) return false;
  const a = healthAnswer(req.url, endpoints);
  if (a === undefined) return false;
  res.writeHead(a.status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(a.body);
  return true;
}
