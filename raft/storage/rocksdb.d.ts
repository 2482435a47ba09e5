// The part of the `rocksdb` npm binding (abstract-leveldown API) that Navarch uses.
declare module 'rocksdb' {
  type Cb<T = void> = (err: Error | undefined | null, value?: T) => void;
  type Key = Buffer | string;
  export interface BatchOp {
    type: 'put' | 'del';
    key: Key;
    value?: Buffer | string;
  }
  export interface Iterator {
    next(cb: (err: Error | undefined | null, key?: Buffer, value?: Buffer) => void): void;
    end(cb: Cb): void;
  }
  /** The binding's chained batch; the underscored methods skip the abstract layer's checks. */
  export interface ChainedBatch {
    _put(key: Buffer, value: Buffer): void;
    _del(key: Buffer): void;
    _write(options: { sync?: boolean }, cb: Cb): void;
  }
  export interface RocksDb {
    batch(): ChainedBatch;
    open(options: { createIfMissing?: boolean; errorIfExists?: boolean; compression?: boolean; writeBufferSize?: number }, cb: Cb): void;
    close(cb: Cb): void;
    compactRange(start: Key, end: Key, cb: Cb): void;
    get(key: Key, options: { asBuffer?: boolean }, cb: Cb<Buffer>): void;
    put(key: Key, value: Buffer | string, options: { sync?: boolean }, cb: Cb): void;
    batch(ops: BatchOp[], options: { sync?: boolean }, cb: Cb): void;
    clear(options: { gte?: Key; lte?: Key; lt?: Key; gt?: Key }, cb: Cb): void;
    iterator(options: { gte?: Key; lt?: Key; lte?: Key; keyAsBuffer?: boolean; valueAsBuffer?: boolean; keys?: boolean; values?: boolean }): Iterator;
  }
  function rocksdb(location: string): RocksDb;
  export default rocksdb;
}
