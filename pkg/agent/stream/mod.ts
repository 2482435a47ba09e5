// pkg/agent/stream's public surface: the agent's logs and exec server (navarch.agent.v1.ContainerStreams).
//
//   const streams = await startStreamServer(`${nodeIP}:10250`, { runtime, clock, lookup: (ref) => workers.lookup(ref) });
//   // register the Node with status.daemonEndpoints.kubeletEndpoint.Port = streams.port

export { startStreamServer, addContainerStreams, containerStreamsServer, newStreamStats, type StreamServer, type StreamServerOptions, type StreamStats } from './server.js';
export type { ContainerLookup, ContainerLocation, ContainerRef } from './lookup.js';
export { checkLogLimits, type LogLimits } from './log_options.js';
export { formatRecord, parseRecord, type LogRecord } from './log_record.js';
