// Kubernetes resource quantities ("500m", "0.5", "128Mi", "1Gi", "2k", "1e3"), exact.
//
// A quantity is unscaled × 10^exponent with a bigint mantissa, so "0.1" + "0.2" is exactly "300m".
// Precision finer than 1n is rounded away from zero, as Kubernetes does. The format the text was
// written in (binary, decimal, exponent) is kept, because the canonical form depends on it.

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

/** The regular expression Kubernetes quotes in its parse errors. */
export const QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const NUMBER_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/;

/** Kubernetes' own wording for each way a quantity can be malformed. */
export const QUANTITY_ERR_FORMAT = `quantities must match the regular expression '${QUANTITY_REGEX_TEXT}'`;
export const QUANTITY_ERR_SUFFIX = "unable to parse quantity's suffix";
export const QUANTITY_ERR_NUMERIC = "unable to parse numeric part of quantity";

export class QuantityError extends SyntaxError {
  /** Kubernetes' wording, without the value: fits a field error's detail. */
  readonly reason: string;
  constructor(readonly input: string, reason: string) {
    super(`Cannot parse quantity ${JSON.stringify(input)}: ${reason}`);
    this.name = "QuantityError";
    this.reason = reason;
  }
}

const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_POWER = new Map(Object.entries(BINARY_SUFFIXES).map(([s, p]) => [p, s]));
const NANO_EXPONENT = -9;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Divides toward zero and rounds any remainder away from zero (Kubernetes' RoundUp). */
function divRoundAway(a: bigint, b: bigint): bigint {
  const q = a / b;
  if (q * b === a) return q;
  return a < 0n ? q - 1n : q + 1n;
}

/**
 * Quantities parsed lately, by text: objects repeat the same few ("100m", "128Mi"), each is parsed
 * on every create and update (validation, defaults) and by every agent, and parsing takes bigints.
 * A Quantity never changes, so one serves every caller. Cleared when full.
 */
const PARSED_MAX_ENTRIES = 1024;
const parsed = new Map<string, Quantity>();

export class Quantity {
  private constructor(
    /** value = unscaled × 10^exponent */
    readonly unscaled: bigint,
    readonly exponent: number,
    readonly format: QuantityFormat,
  ) {}

  /** Parses Kubernetes quantity text; throws QuantityError naming the input and the problem. */
  static parse(text: string): Quantity {
    const seen = parsed.get(text);
    if (seen !== undefined) return seen;
    const q = Quantity.parseText(text);
    if (parsed.size >= PARSED_MAX_ENTRIES) parsed.clear();
    parsed.set(text, q);
    return q;
  }

  private static parseText(text: string): Quantity {
    if (typeof text !== "string") throw new QuantityError(String(text), QUANTITY_ERR_FORMAT);
    const m = QUANTITY_RE.exec(text);
    if (text.length === 0 || m === null) throw new QuantityError(text, QUANTITY_ERR_FORMAT);
    const [, numberPart, suffix] = m;
    if (!NUMBER_RE.test(numberPart)) throw new QuantityError(text, QUANTITY_ERR_NUMERIC);
    const negative = numberPart.startsWith("-");
    const digits = numberPart.replace(/^[+-]/, "");
    const dot = digits.indexOf(".");
    const intPart = dot < 0 ? digits : digits.slice(0, dot);
    const fracPart = dot < 0 ? "" : digits.slice(dot + 1);
    let unscaled = BigInt((intPart + fracPart).replace(/^0+(?=.)/, "") || "0");
    if (negative) unscaled = -unscaled;
    let exponent = -fracPart.length;
    let format: QuantityFormat;
    if (suffix in BINARY_SUFFIXES) {
      format = "BinarySI";
      unscaled *= 1024n ** BigInt(BINARY_SUFFIXES[suffix]);
    } else if (suffix in DECIMAL_SUFFIXES) {
      format = "DecimalSI";
      exponent += DECIMAL_SUFFIXES[suffix];
    } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
      format = "DecimalExponent";
      const e = Number(suffix.slice(1));
      if (!Number.isSafeInteger(e) || Math.abs(e) > 1000) throw new QuantityError(text, QUANTITY_ERR_SUFFIX);
      exponent += e;
    } else {
      throw new QuantityError(text, QUANTITY_ERR_SUFFIX);
    }
    return Quantity.of(unscaled, exponent, format);
  }

  /** Parses, or returns undefined when the text is not a quantity. */
  static tryParse(text: string): Quantity | undefined {
    try {
      return Quantity.parse(text);
    } catch {
      return undefined;
    }
  }

  /** A quantity from a plain number (integer or fraction), in decimal SI form. */
  static fromNumber(value: number, format: QuantityFormat = "DecimalSI"): Quantity {
    if (!Number.isFinite(value)) throw new QuantityError(String(value), QUANTITY_ERR_FORMAT);
    return Quantity.parse(String(value)).withFormat(format);
  }

  static fromMilli(milli: number | bigint): Quantity {
    return Quantity.of(BigInt(milli), -3, "DecimalSI");
  }

  static fromBytes(bytes: number | bigint): Quantity {
    return Quantity.of(BigInt(bytes), 0, "BinarySI");
  }

  private static of(unscaled: bigint, exponent: number, format: QuantityFormat): Quantity {
    if (exponent < NANO_EXPONENT) {
      unscaled = divRoundAway(unscaled, pow10(NANO_EXPONENT - exponent));
      exponent = NANO_EXPONENT;
    }
    if (unscaled === 0n) return new Quantity(0n, 0, format);
    // Keep the mantissa small so comparisons and arithmetic stay cheap.
    while (unscaled % 10n === 0n) {
      unscaled /= 10n;
      exponent += 1;
    }
    return new Quantity(unscaled, exponent, format);
  }

  withFormat(format: QuantityFormat): Quantity {
    return new Quantity(this.unscaled, this.exponent, format);
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  /** The value as unscaled × 10^exponent for a given (lower or equal) exponent. */
  private scaledTo(exponent: number): bigint {
    return this.unscaled * pow10(this.exponent - exponent);
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    const e = Math.min(this.exponent, other.exponent);
    const a = this.scaledTo(e);
    const b = other.scaledTo(e);
    return a === b ? 0 : a < b ? -1 : 1;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  add(other: Quantity): Quantity {
    const e = Math.min(this.exponent, other.exponent);
    return Quantity.of(this.scaledTo(e) + other.scaledTo(e), e, this.format);
  }

  sub(other: Quantity): Quantity {
    const e = Math.min(this.exponent, other.exponent);
    return Quantity.of(this.scaledTo(e) - other.scaledTo(e), e, this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.exponent, this.format);
  }

  /** The value in units of 10^exponent, rounded away from zero (Kubernetes' ScaledValue). */
  scaledValue(exponent: number): bigint {
    if (this.exponent >= exponent) return this.scaledTo(exponent);
    return divRoundAway(this.unscaled, pow10(exponent - this.exponent));
  }

  /** Milli-units rounded up, as Kubernetes' MilliValue: "500m" → 500, "1" → 1000, "1n" → 1. */
  milliValue(): number {
    return Number(this.scaledValue(-3));
  }

  /** Whole units rounded up, as Kubernetes' Value(): bytes for memory, "1Gi" → 1073741824. */
  value(): number {
    return Number(this.scaledValue(0));
  }

  /** A floating point approximation, for ratios and printing only. */
  approximate(): number {
    return Number(this.unscaled) * 10 ** this.exponent;
  }

  /** The canonical text, as Kubernetes serialises it: "0.5" → "500m", "1024Mi" → "1Gi", "1000" → "1k". */
  toString(): string {
    if (this.unscaled === 0n) return "0";
    let format = this.format;
    if (format === "BinarySI") {
      const integral = this.exponent >= 0;
      const abs = this.unscaled < 0n ? -this.scaledValue(0) : this.scaledValue(0);
      if (!integral || abs < 1024n) format = "DecimalSI";
    }
    if (format === "BinarySI") {
      let n = this.scaledTo(0);
      let power = 0;
      while (power < 6 && n % 1024n === 0n) {
        n /= 1024n;
        power += 1;
      }
      return `${n}${BINARY_BY_POWER.get(power) ?? ""}`;
    }
    let n = this.unscaled;
    let e = this.exponent;
    const rem = ((e % 3) + 3) % 3;
    if (rem !== 0) {
      n *= pow10(rem);
      e -= rem;
    }
    if (format === "DecimalSI") {
      const suffix = DECIMAL_BY_EXPONENT.get(e);
      if (suffix !== undefined) return `${n}${suffix}`;
    }
    return e === 0 ? `${n}` : `${n}e${e}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export function parseQuantity(text: string): Quantity {
  return Quantity.parse(text);
}

/** The canonical form of quantity text: canonicalQuantity("0.5") is "500m". */
export function canonicalQuantity(text: string): string {
  return Quantity.parse(text).toString();
}

export function compareQuantities(a: string, b: string): -1 | 0 | 1 {
  return Quantity.parse(a).cmp(Quantity.parse(b));
}

/** CPU-style milli-units: "250m" → 250, "2" → 2000. */
export function quantityToMilli(text: string): number {
  return Quantity.parse(text).milliValue();
}

/** Memory-style whole units (bytes): "128Mi" → 134217728, "1G" → 1000000000. */
export function quantityToBytes(text: string): number {
  return Quantity.parse(text).value();
}
