// A Transport for tests of one member: what it sends is recorded, and the test delivers messages
// to it through `handler`.

import type { Message } from '../../core/types.js';
import type { Transport, TransportHandler } from '../ports.js';

export class LoopbackTransport implements Transport {
  handler: TransportHandler | undefined;
  readonly sent: Message[] = [];
  async start(h: TransportHandler): Promise<void> {
    this.handler = h;
  }
  send(messages: readonly Message[]): void {
    this.sent.push(...messages);
  }
  addPeer(): void {}
  removePeer(): void {}
  async stop(): Promise<void> {}
}
