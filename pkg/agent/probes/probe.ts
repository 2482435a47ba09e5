// One probe run, as the kubelet's prober makes it: exec through the runtime, an HTTP GET or a TCP
// connect to the pod, each within timeoutSeconds. The result is success, failure, or unknown (the
// probe could not be run at all, e.g. the runtime failed).

import type { Container, Probe } from '../../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../../raft/node/ports.js';
import { httpProbe } from './http_probe.js';
import { MAX_OUTPUT_BYTES, type ExecFn, type ProbeOutcome } from './outcome.js';
import { tcpProbe } from './tcp_probe.js';

/** What a probe is run against. */
export interface ProbeTarget {
  /** The container's spec, for port names. */
  container: Container;
  /** Where httpGet and tcpSocket go when the probe names no host. */
  podIP: string;
  exec: ExecFn;
}

export const PROBE_DEFAULTS = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } as const;

/** A port number from an IntOrString: a number, a container port's name, or a number written as a string. */
export function resolvePort(port: { intVal?: number; strVal?: string } | undefined, container: Container, field: string): number {
  let n: number | undefined = port?.intVal;
  if (port?.strVal !== undefined) {
    const named = (container.ports ?? []).find((p) => p.name === port.strVal);
    n = named?.containerPort ?? (/^[0-9]+$/.test(port.strVal) ? Number(port.strVal) : undefined);
    if (n === undefined) throw new Error(`${field}: no port named ${JSON.stringify(port.strVal)} in container ${JSON.stringify(container.name)}`);
  }
  if (n === undefined || !(Number.isInteger(n) && n >= 1 && n <= 65535)) throw new Error(`${field}: must be a port number between 1 and 65535 or a port name, got ${JSON.stringify(port?.intVal ?? port?.strVal)}`);
  return n;
}

export async function execProbe(exec: ExecFn, argv: string[], timeoutMs: number, clock: Clock): Promise<ProbeOutcome> {
  if (argv.length === 0) return { result: 'failure', output: 'exec probe has no command' };
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = clock.setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const r = await Promise.race([exec(argv, timeoutMs), timedOut]);
    if (r === 'timeout') return { result: 'failure', output: `command timed out after ${timeoutMs} ms` };
    const output = r.output.length > MAX_OUTPUT_BYTES ? r.output.slice(0, MAX_OUTPUT_BYTES) : r.output;
    return r.exitCode === 0 ? { result: 'success', output } : { result: 'failure', output: output || `command exited with code ${r.exitCode}` };
  } catch (err) {
    return { result: 'unknown', output: `exec failed: ${(err as Error).message}` };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}

/** Runs `probe` once against `target`; `field` prefixes errors about the probe's own fields. */
export async function runProbe(probe: Probe, target: ProbeTarget, clock: Clock, field = 'probe'): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds || PROBE_DEFAULTS.timeoutSeconds) * 1000;
  try {
    if (probe.exec) return await execProbe(target.exec, probe.exec.command ?? [], timeoutMs, clock);
    if (probe.httpGet) {
      const h = probe.httpGet;
      const scheme = (h.scheme || 'HTTP').toUpperCase();
      if (scheme !== 'HTTP' && scheme !== 'HTTPS') throw new Error(`${field}.httpGet.scheme: must be HTTP or HTTPS, got ${JSON.stringify(h.scheme)}`);
      const port = resolvePort(h.port, target.container, `${field}.httpGet.port`);
      let path = h.path || '/';
      if (!path.startsWith('/')) path = '/' + path;
      const headers = (h.httpHeaders ?? []).map((x) => ({ name: x.name ?? '', value: x.value ?? '' }));
      return await httpProbe({ scheme, host: h.host || target.podIP, port, path, headers, timeoutMs }, clock);
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, target.container, `${field}.tcpSocket.port`);
      return await tcpProbe({ host: probe.tcpSocket.host || target.podIP, port, timeoutMs }, clock);
    }
    if (probe.grpc) return { result: 'failure', output: `${field}.grpc: gRPC probes are not supported by this agent` };
    return { result: 'failure', output: `${field}: must have exec, httpGet or tcpSocket` };
  } catch (err) {
    // A probe that names a port the container does not have fails, rather than being ignored forever.
    return { result: 'failure', output: (err as Error).message };
  }
}
