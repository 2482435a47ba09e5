// Container probes: startup, liveness and readiness, by exec, httpGet or tcpSocket.
//
//   const probes = new ProbeManager({ clock, onRestart: (uid, name, reason) => worker.restart(uid, name, reason) });
//   probes.containerStarted(pod, 'app', { containerId, startedAtMs, podIP, exec: (argv, timeoutMs) => ... });
//   probes.isReady(uid, 'app');  probes.isStarted(uid, 'app');
//   probes.containerStopped(uid, 'app');  probes.removePod(uid);

export { ProbeManager, type ProbeManagerOptions, type ContainerStart, type ProbeKind } from './probe_manager.js';
export { runProbe, execProbe, resolvePort, PROBE_DEFAULTS, type ProbeTarget } from './probe.js';
export { httpProbe, PROBE_USER_AGENT, type HttpProbeSpec } from './http_probe.js';
export { tcpProbe } from './tcp_probe.js';
export { MAX_OUTPUT_BYTES, type ExecFn, type ProbeOutcome, type ProbeResult } from './outcome.js';
