// A raw etcd v3 gRPC client over the descriptors loaded from Debian's protos:
// messages in and out as plain objects with proto field names. For tests,
// health checks and tools; applications use an etcd client library.

import { Client, credentials, type ClientDuplexStream, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import type { Msg } from './convert.js';
import { loadEtcdApi, type EtcdServiceName } from './proto.js';

export class EtcdRawClient {
  private readonly client: Client;
  constructor(readonly address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  private def(service: EtcdServiceName, method: string): MethodDefinition<Msg, Msg> {
    return loadEtcdApi().services[service][method] as unknown as MethodDefinition<Msg, Msg>;
  }

  call(service: EtcdServiceName, method: string, req: Msg, timeoutMs = 10_000): Promise<Msg> {
    const d = this.def(service, method);
    return new Promise((resolve, reject) =>
      this.client.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, req, { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, res?: Msg) =>
        err ? reject(err) : resolve(res!),
      ),
    );
  }

  stream(service: EtcdServiceName, method: string): ClientDuplexStream<Msg, Msg> {
    const d = this.def(service, method);
    return this.client.makeBidiStreamRequest(d.path, d.requestSerialize, d.responseDeserialize);
  }

  close(): void {
    this.client.close();
  }
}
