import type { TtlvItem } from './types.js';

type Child = TtlvItem | undefined | readonly TtlvItem[];

/** Small constructors for TTLV items; `undefined` children of a structure are skipped (optional fields). */
export const ttlv = {
  struct(tag: number, children: readonly Child[]): TtlvItem {
    const value: TtlvItem[] = [];
    for (const c of children) {
      if (c === undefined) continue;
      if (Array.isArray(c)) value.push(...(c as readonly TtlvItem[]));
      else value.push(c as TtlvItem);
    }
    return { tag, type: 'Structure', value };
  },
  int: (tag: number, value: number): TtlvItem => ({ tag, type: 'Integer', value }),
  long: (tag: number, value: bigint): TtlvItem => ({ tag, type: 'LongInteger', value }),
  bigInt: (tag: number, value: Buffer): TtlvItem => ({ tag, type: 'BigInteger', value }),
  enumeration: (tag: number, value: number): TtlvItem => ({ tag, type: 'Enumeration', value }),
  bool: (tag: number, value: boolean): TtlvItem => ({ tag, type: 'Boolean', value }),
  text: (tag: number, value: string): TtlvItem => ({ tag, type: 'TextString', value }),
  bytes: (tag: number, value: Buffer): TtlvItem => ({ tag, type: 'ByteString', value }),
  /** DateTime from seconds since the epoch (bigint) or a Date (sub-second part dropped). */
  date: (tag: number, value: bigint | Date): TtlvItem => ({
    tag,
    type: 'DateTime',
    value: typeof value === 'bigint' ? value : BigInt(Math.floor(value.getTime() / 1000)),
  }),
  interval: (tag: number, value: number): TtlvItem => ({ tag, type: 'Interval', value }),
  /** `ttlv.opt(x, f)` = `x === undefined ? undefined : f(x)`, for optional fields. */
  opt<T>(value: T | undefined, make: (v: T) => TtlvItem): TtlvItem | undefined {
    return value === undefined ? undefined : make(value);
  },
};
