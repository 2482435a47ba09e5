// A bare gRPC caller over node:http2 for the storm: one length-prefixed message out, the status
// (grpc-status, grpc-message) back. A tenth of grpc-js's client work per call, which matters when
// the client shares two cores with three masters; requests of megabytes go through grpc-js (it
// knows how to finish a call the server refuses while the body is still being sent).

import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { status as Code } from '@grpc/grpc-js';

export interface CallStatus {
  code: number;
  message: string;
  /** A watch sent an event: it was accepted. */
  accepted?: boolean;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2). */
function decodeMessage(raw: string | string[] | undefined): string {
  const s = Array.isArray(raw) ? raw[0] : (raw ?? '');
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export class RawGrpcChannel {
  private session: ClientHttp2Session | undefined;

  constructor(private readonly address: string) {}

  private connected(): ClientHttp2Session {
    if (!this.session || this.session.closed || this.session.destroyed) {
      const s = connect(`http://${this.address}`);
      s.on('error', () => {});
      this.session = s;
    }
    return this.session;
  }

  call(path: string, body: Buffer, timeoutMs: number): Promise<CallStatus> {
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    return new Promise((resolve) => {
      let done = false;
      const finish = (s: CallStatus): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(s);
      };
      const req = this.connected().request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${timeoutMs}m`,
      });
      const timer = setTimeout(() => {
        finish({ code: Code.DEADLINE_EXCEEDED, message: `No answer within ${timeoutMs} ms` });
        req.close(constants.NGHTTP2_CANCEL);
      }, timeoutMs + 1000);
      const fromHeaders = (h: Record<string, string | string[] | undefined>): void => {
        const st = h['grpc-status'];
        if (st !== undefined) finish({ code: Number(st), message: decodeMessage(h['grpc-message']) });
      };
      // A "trailers-only" answer carries the status in the response headers.
      req.on('response', fromHeaders);
      req.on('trailers', fromHeaders);
      req.on('data', () => {
        finish({ code: Code.OK, message: '', accepted: true });
        req.close(constants.NGHTTP2_CANCEL);
      });
      req.on('error', (e) => finish({ code: Code.UNAVAILABLE, message: `HTTP/2 stream failed: ${e.message}` }));
      req.on('close', () => finish({ code: Code.UNKNOWN, message: `The stream closed without a status (HTTP/2 code ${req.rstCode})` }));
      req.end(frame);
    });
  }

  close(): void {
    this.session?.close();
  }
}
