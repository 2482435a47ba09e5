// One member's Maintenance.Status with the Navarch extras the server sends as
// initial metadata (quota, name, role): what `navctl cluster` prints.

import { Client, credentials, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import type { Msg } from './convert.js';
import { loadEtcdApi } from './proto.js';

export interface MemberStatus {
  /** The client address asked. */
  address: string;
  id: number;
  name: string;
  /** Raft role ("leader", "follower", "candidate", ...); "unknown" from a server without the metadata (etcd). */
  role: string;
  leader: number;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  revision: number;
  dbSizeBytes: number;
  dbSizeInUseBytes: number;
  /** 0 when the server does not say (etcd). */
  quotaBytes: number;
  isLearner: boolean;
  errors: string[];
}

export function fetchMemberStatus(address: string, timeoutMs = 3000): Promise<MemberStatus> {
  const d = loadEtcdApi().services.Maintenance.Status as unknown as MethodDefinition<Msg, Msg>;
  const client = new Client(address, credentials.createInsecure());
  let quotaBytes = 0;
  let name = '';
  let role = 'unknown';
  return new Promise<MemberStatus>((resolve, reject) => {
    const call = client.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, {}, { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, r?: Msg) => {
      client.close();
      if (err || !r) {
        reject(err ?? new Error(`No Status response from ${address}`));
        return;
      }
      const id = Number(r.header?.member_id ?? 0);
      resolve({
        address,
        id,
        name: name || `member-${id}`,
        role,
        leader: Number(r.leader),
        term: Number(r.raftTerm),
        commitIndex: Number(r.raftIndex),
        appliedIndex: Number(r.raftAppliedIndex),
        revision: Number(r.header?.revision ?? 0),
        dbSizeBytes: Number(r.dbSize),
        dbSizeInUseBytes: Number(r.dbSizeInUse),
        quotaBytes,
        isLearner: !!r.isLearner,
        errors: r.errors ?? [],
      });
    });
    call.on('metadata', (md) => {
      quotaBytes = Number(md.get('navarch-quota-bytes')[0] ?? 0) || 0;
      name = String(md.get('navarch-member-name')[0] ?? '');
      role = String(md.get('navarch-role')[0] ?? 'unknown');
    });
  });
}
