/** TTLV item types (KMIP 1.4 §9.1.1.3): the 1-byte type field. */
export const ItemType = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
} as const;

export type ItemTypeName = keyof typeof ItemType;

/**
 * One decoded TTLV item. Values are kept in a form that re-encodes byte for byte:
 * BigInteger stays as its two's-complement bytes (a multiple of 8 long), DateTime as the
 * signed 64-bit count of seconds since the epoch.
 */
export type TtlvItem =
  | { readonly tag: number; readonly type: 'Structure'; readonly value: readonly TtlvItem[] }
  | { readonly tag: number; readonly type: 'Integer'; readonly value: number }
  | { readonly tag: number; readonly type: 'LongInteger'; readonly value: bigint }
  | { readonly tag: number; readonly type: 'BigInteger'; readonly value: Buffer }
  | { readonly tag: number; readonly type: 'Enumeration'; readonly value: number }
  | { readonly tag: number; readonly type: 'Boolean'; readonly value: boolean }
  | { readonly tag: number; readonly type: 'TextString'; readonly value: string }
  | { readonly tag: number; readonly type: 'ByteString'; readonly value: Buffer }
  | { readonly tag: number; readonly type: 'DateTime'; readonly value: bigint }
  | { readonly tag: number; readonly type: 'Interval'; readonly value: number };

export type TtlvOf<T extends ItemTypeName> = Extract<TtlvItem, { type: T }>;

/** Limits applied while decoding anything read from the network or a file. */
export interface DecodeLimits {
  /** Largest whole message in bytes (default 1 MiB). */
  readonly maxMessageSize: number;
  /** Deepest structure nesting; the top-level item is depth 1 (default 16). */
  readonly maxDepth: number;
  /** Most items in one message (default 65536). */
  readonly maxItems: number;
}

export const defaultDecodeLimits: DecodeLimits = {
  maxMessageSize: 1024 * 1024,
  maxDepth: 16,
  maxItems: 65536,
};

/** Size of the tag + type + length header of every item. */
export const TTLV_HEADER_SIZE = 8;
