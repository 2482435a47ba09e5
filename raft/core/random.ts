/** Every random choice in the core comes from here, so a seed replays a run. */
export interface Random {
  /** An integer in [0, n). */
  intn(n: number): number;
  /** A float in [0, 1). */
  float(): number;
}

/** sfc32, seeded through splitmix32: fast, 32-bit, and good enough for fault injection. */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let x = seed >>> 0 ^ Math.floor(seed / 2 ** 32);
    const mix = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next32();
  }

  private next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.next32() / 4294967296;
  }

  intn(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Cannot draw from [0, ${n}): n must be a positive integer`);
    return Math.floor(this.float() * n);
  }

  /** A new generator whose seed comes from this one, for sub-components. */
  fork(): SeededRandom {
    return new SeededRandom(this.next32() * 4096 + (this.next32() & 0xfff));
  }
}
