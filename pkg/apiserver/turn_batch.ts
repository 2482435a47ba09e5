// Items that go together once the current turn of the event loop is over: what one turn produces
// (the calls a client makes, the answers a Raft commit releases) goes out as one message. A message
// closes at maxItems items or maxBytes bytes; an item larger than maxBytes goes alone.

export interface TurnBatchOptions<T> {
  maxItems: number;
  maxBytes: number;
  /** Sends one message's items, in the order they were pushed. */
  send: (items: T[]) => void;
}

export class TurnBatch<T> {
  private items: T[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly o: TurnBatchOptions<T>) {}

  push(item: T, bytes: number): void {
    if (this.items.length > 0 && (this.items.length >= this.o.maxItems || this.bytes + bytes > this.o.maxBytes)) this.flush();
    this.items.push(item);
    this.bytes += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTurnEnd);
    }
  }

  /** Drops the items not yet sent. */
  clear(): void {
    this.items = [];
    this.bytes = 0;
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    this.o.send(items);
  }
}
