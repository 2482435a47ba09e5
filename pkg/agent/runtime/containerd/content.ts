// Blobs in containerd's content store: written through Content.Write (one request, one answer, in
// turn), read back through Content.Read; containerd checks the digest and size on commit.

import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { WriteAction, WriteContentRequest, type WriteContentResponse } from '../../../../gen/containerd/github.com/containerd/containerd/api/services/content/v1/content.js';
import { ContainerdError, isAlreadyExists, isNotFound, type CallContext, type ContainerdClient } from './client.js';

/** Bytes per Write request: well under gRPC's message limit. */
const CHUNK_BYTES = 1 << 20;

export interface BlobDescriptor {
  digest: string;
  sizeBytes: number;
}

export async function hasBlob(client: ContainerdClient, digest: string, ctx: CallContext = {}): Promise<boolean> {
  try {
    const c = client.content;
    await client.unary('Content.Info', c.info.bind(c), { digest }, ctx);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/** Streams `data` into the content store under `desc` unless it is already there. */
export async function writeBlob(
  client: ContainerdClient,
  desc: BlobDescriptor,
  data: () => AsyncIterable<Buffer | Uint8Array>,
  labels: Record<string, string>,
  ctx: CallContext = {},
): Promise<void> {
  if (await hasBlob(client, desc.digest, ctx)) {
    if (Object.keys(labels).length > 0) await setBlobLabels(client, desc.digest, labels, ctx);
    return;
  }
  // A ref of our own: two writers of the same blob never share (and lock) one ingest.
  const ref = `navarch-${desc.digest}-${randomBytes(6).toString('hex')}`;
  const call = client.content.write(client.metadata(ctx), client.callOptions({ signal: ctx.signal }));
  const responses = call[Symbol.asyncIterator]() as AsyncIterator<WriteContentResponse>;
  let failure: Error | undefined;
  call.on('error', (e) => (failure = e));
  const exchange = async (req: Partial<WriteContentRequest>): Promise<WriteContentResponse> => {
    call.write(WriteContentRequest.fromPartial({ ref, total: desc.sizeBytes, expected: desc.digest, ...req }));
    const next = await responses.next().catch((e: Error) => {
      throw client.wrap('Content.Write', e);
    });
    if (next.done) throw client.wrap('Content.Write', failure ?? new Error('stream ended before the write was committed'));
    return next.value;
  };
  try {
    let offset = 0;
    for await (const chunk of data()) {
      for (let at = 0; at < chunk.length; at += CHUNK_BYTES) {
        const piece = Buffer.from(chunk.buffer, chunk.byteOffset + at, Math.min(CHUNK_BYTES, chunk.length - at));
        if (offset + piece.length > desc.sizeBytes) {
          throw new ContainerdError(`Cannot write blob ${desc.digest}: more than the ${desc.sizeBytes} bytes its descriptor says`, status.INVALID_ARGUMENT);
        }
        await exchange({ action: WriteAction.WRITE, offset, data: piece });
        offset += piece.length;
      }
    }
    if (offset !== desc.sizeBytes) {
      throw new ContainerdError(`Cannot write blob ${desc.digest}: got ${offset} bytes, its descriptor says ${desc.sizeBytes}`, status.INVALID_ARGUMENT);
    }
    await exchange({ action: WriteAction.COMMIT, offset, labels });
    call.end();
  } catch (e) {
    call.cancel();
    // Someone else committed the same blob meanwhile: the store has it, which is what we wanted.
    if (isAlreadyExists(e)) return;
    await client.unary('Content.Abort', client.content.abort.bind(client.content), { ref }, ctx).catch(() => undefined);
    throw e;
  }
}

export async function setBlobLabels(client: ContainerdClient, digest: string, labels: Record<string, string>, ctx: CallContext = {}): Promise<void> {
  const c = client.content;
  const info = await client.unary('Content.Info', c.info.bind(c), { digest }, ctx);
  const merged = { ...(info.info?.labels ?? {}), ...labels };
  await client.unary('Content.Update', c.update.bind(c), { info: { digest, size: info.info?.size ?? 0, labels: merged }, updateMask: Object.keys(labels).map((k) => `labels.${k}`) }, ctx);
}

/** Reads a whole (small) blob: manifests, indexes and configs. */
export async function readBlob(client: ContainerdClient, digest: string, maxBytes: number, ctx: CallContext = {}): Promise<Buffer> {
  const call = client.content.read({ digest, offset: 0, size: 0 }, client.metadata(ctx), client.callOptions(ctx));
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const res of call as AsyncIterable<{ data: Buffer }>) {
      total += res.data.length;
      if (total > maxBytes) {
        call.cancel();
        throw new ContainerdError(`Cannot read blob ${digest}: larger than ${maxBytes} bytes`, status.OUT_OF_RANGE);
      }
      parts.push(res.data);
    }
  } catch (e) {
    if (e instanceof ContainerdError) throw e;
    throw client.wrap('Content.Read', e as Error);
  }
  return Buffer.concat(parts);
}
