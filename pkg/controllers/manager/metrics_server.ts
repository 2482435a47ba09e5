// GET /metrics for a registry, on 127.0.0.1 unless told otherwise: what `navarch scheduler`,
// `navarch controllers`, a master and `navarch hollow` serve, with the health checks asked for.

import { createServer, type Server } from 'node:http';
import { serveHealth, type HealthEndpoints } from '../../healthz/healthz.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** What /metrics answers: a prom-client Registry, or anything that renders the same way. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/**
 * Listens on host:port (port 0: any free one) and resolves with the bound port; also /healthz,
 * /livez and /readyz with the checks `health` gives when asked (none: not served).
 */
export function serveMetrics(source: MetricsSource, port: number, host = '127.0.0.1', health: () => HealthEndpoints = () => ({})): Promise<MetricsServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.reject(new RangeError(`Invalid metrics port ${port}: expected 0 to 65535`));
  const server: Server = createServer((req, res) => {
    if (serveHealth(req, res, health())) return;
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try GET /metrics\n');
      return;
    }
    source.metrics().then(
      (text) => res.writeHead(200, { 'content-type': source.contentType }).end(text),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`Cannot serve metrics on ${host}:${port}: ${e.message}`)));
    server.listen(port, host, () => {
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
