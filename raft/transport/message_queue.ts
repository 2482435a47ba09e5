import type { Message } from '../core/types.js';

/**
 * A fixed-capacity FIFO of outgoing messages bounded by count and by bytes.
 * A ring buffer, so steady-state traffic allocates nothing here.
 */
export class BoundedMessageQueue {
  private readonly messages: (Message | undefined)[];
  private readonly sizes: Float64Array;
  private head = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {
    this.messages = new Array<Message | undefined>(maxMessages).fill(undefined);
    this.sizes = new Float64Array(maxMessages);
  }

  get length(): number {
    return this.count;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Appends unless that would pass a bound; returns false when the message was not taken. */
  push(m: Message, sizeBytes: number): boolean {
    if (this.count === this.maxMessages || this.bytes + sizeBytes > this.maxBytes) return false;
    const i = (this.head + this.count) % this.maxMessages;
    this.messages[i] = m;
    this.sizes[i] = sizeBytes;
    this.count++;
    this.bytes += sizeBytes;
    return true;
  }

  /** Size of the oldest message; only valid when length > 0. */
  peekSizeBytes(): number {
    return this.sizes[this.head];
  }

  shift(): Message {
    if (this.count === 0) throw new Error('Cannot shift an empty queue');
    const m = this.messages[this.head] as Message;
    this.messages[this.head] = undefined;
    this.bytes -= this.sizes[this.head];
    this.head = (this.head + 1) % this.maxMessages;
    this.count--;
    return m;
  }

  clear(): void {
    this.messages.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
