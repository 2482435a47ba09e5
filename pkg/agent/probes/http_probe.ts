// httpGet probes: one GET on a fresh connection (no keep-alive, so a stuck server cannot hold a
// pooled socket), success for a status from 200 to 399, failure otherwise or when no answer comes
// within the timeout. Redirects are not followed: a 3xx is a success. HTTPS does not verify the
// certificate, as in Kubernetes. Headers: User-Agent and Accept by default; the probe's
// httpHeaders override them (Host included).

import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../../../raft/node/ports.js';
import { MAX_OUTPUT_BYTES, type ProbeOutcome } from './outcome.js';

export interface HttpProbeSpec {
  scheme: 'HTTP' | 'HTTPS' | string;
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
  timeoutMs: number;
}

export const PROBE_USER_AGENT = 'kube-probe/navarch';

export function httpProbe(spec: HttpProbeSpec, clock: Clock): Promise<ProbeOutcome> {
  // Keyed by lower-case name: the probe's first header of a name replaces the default, later ones add values.
  const headers = new Map<string, { name: string; values: string[]; fromProbe: boolean }>();
  for (const [name, value] of [['User-Agent', PROBE_USER_AGENT], ['Accept', '*/*']]) headers.set(name.toLowerCase(), { name, values: [value], fromProbe: false });
  for (const { name, value } of spec.headers) {
    if (!name) continue;
    const cur = headers.get(name.toLowerCase());
    if (cur?.fromProbe) cur.values.push(value);
    else headers.set(name.toLowerCase(), { name, values: [value], fromProbe: true });
  }
  const requestHeaders: Record<string, string | string[]> = { Connection: 'close' };
  for (const h of headers.values()) requestHeaders[h.name] = h.values.length === 1 ? h.values[0] : h.values;
  const url = `${spec.scheme.toLowerCase()}://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}${spec.path}`;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const mod = spec.scheme === 'HTTPS' ? https : http;
    const req = mod.request(url, { method: 'GET', headers: requestHeaders, agent: false, rejectUnauthorized: false } as https.RequestOptions, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = () => {
        const body = Buffer.concat(chunks).subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
        if (status >= 200 && status < 400) finish({ result: 'success', output: body });
        else finish({ result: 'failure', output: `HTTP probe failed with statuscode: ${status}` });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= MAX_OUTPUT_BYTES) settle();
      });
      res.on('end', settle);
      res.on('error', settle);
    });
    const timer = clock.setTimeout(() => finish({ result: 'failure', output: `Get "${url}": timeout after ${spec.timeoutMs} ms awaiting response` }), spec.timeoutMs);
    req.on('error', (err) => finish({ result: 'failure', output: `Get "${url}": ${err.message}` }));
    req.end();
  });
}
