// `navarch kv-member`: one Raft member with a RocksDB data dir and the minimal KV service.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { KvStateMachine } from '../raft/kv/kv_state_machine.js';
import { entropyRandom, realClock } from '../raft/node/ports.js';
import { RaftNode } from '../raft/node/raft_node.js';
import { RocksDbStorage } from '../raft/storage/rocksdb_storage.js';
import { GrpcTransport } from '../raft/transport/grpc_transport.js';
import { KvServer } from '../pkg/raftkv/server.js';
import { parseMembers } from './members.js';

export interface KvMemberFlags {
  id: string;
  dataDir: string;
  peers: string;
  clientListen: string;
  join?: boolean;
  tickMs?: string;
  snapshotEntries?: string;
}

export async function runKvMember(flags: KvMemberFlags): Promise<void> {
  const id = Number(flags.id);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`--id: "${flags.id}" is not a positive integer`);
  const peers = parseMembers('--peers', flags.peers);
  const self = peers.find((p) => p.id === id);
  if (!self) throw new Error(`--peers: has no entry for this member's id ${id}`);
  const log = pino({ name: 'kv-member' }).child({ member: id });
  mkdirSync(flags.dataDir, { recursive: true });
  const storage = await RocksDbStorage.open(join(flags.dataDir, 'raft'));
  const transport = new GrpcTransport({ id, listenAddress: self.address, clusterId: 1, clock: realClock, logger: log.child({ component: 'transport' }) });
  const machine = new KvStateMachine();
  const node = await RaftNode.start({
    id,
    peers,
    bootstrap: !flags.join,
    storage,
    transport,
    stateMachine: machine,
    clock: realClock,
    random: entropyRandom(),
    tickMs: flags.tickMs ? Number(flags.tickMs) : undefined,
    snapshotEntries: flags.snapshotEntries ? Number(flags.snapshotEntries) : undefined,
    logger: {
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    },
  });
  const server = new KvServer(node, machine);
  await server.start(flags.clientListen);
  log.info({ peer: self.address, client: `${flags.clientListen}` }, 'member serving');
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping on ${signal}`);
    await server.stop();
    await node.stop({ transferLeadership: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
