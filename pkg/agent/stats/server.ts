// navarch.agent.v1.NodeStats on the agent's gRPC server: the sampler's last window, or Unavailable
// until it has two samples.

import type { Server } from '@grpc/grpc-js';
import { NodeStatsService, type NodeStatsServer } from '../../../gen/navarch/agent/v1/stats.js';
import { ApiError } from '../../apiserver/api_error.js';
import { toGrpcError } from '../../apiserver/grpc_adapter.js';
import type { StatsSampler } from './sampler.js';

export function nodeStatsServer(sampler: Pick<StatsSampler, 'summary'>): NodeStatsServer {
  return {
    summary: (_call, callback) => {
      const s = sampler.summary();
      if (s) callback(null, s);
      else callback(toGrpcError(new ApiError('Unavailable', 'This agent has not sampled its stats twice yet', { retryAfterSeconds: 10 })));
    },
  };
}

export function addNodeStats(server: Server, sampler: Pick<StatsSampler, 'summary'>): void {
  server.addService(NodeStatsService, nodeStatsServer(sampler));
}
