import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv, ttlv, type TtlvItem } from '../../../src/kmip/ttlv/index.js';
import { KmipError } from '../../../src/kmip/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof KmipError) return err.code;
    throw err;
  }
  return 'no error';
}

// Examples of KMIP 1.4 §9.1.2 (one per item type).
const specExamples: Array<[string, TtlvItem]> = [
  ['42002002000000040000000800000000', ttlv.int(0x420020, 8)],
  ['420020030000000801B69B4BA5749200', { tag: 0x420020, type: 'LongInteger', value: 123456789000000000n }],
  ['42002004000000100000000003FD35EB6BC2DF4618080000', ttlv.bigInt(0x420020, hex('0000000003FD35EB6BC2DF4618080000'))],
  ['42002005000000040000FF0000000000', ttlv.enumeration(0x420020, 0x0000ff00)],
  ['42002006000000080000000000000001', ttlv.bool(0x420020, true)],
  ['420020070000000B48656C6C6F20576F726C640000000000', ttlv.text(0x420020, 'Hello World')],
  ['42002008000000030102030000000000', ttlv.bytes(0x420020, hex('010203'))],
  ['42002009000000080000000047DA67F8', ttlv.date(0x420020, 0x47da67f8n)],
  ['4200200A00000004000D2F0000000000', ttlv.interval(0x420020, 864000)],
  [
    '42002001000000204200040500000004000000FE000000004200050200000004000000FF00000000',
    ttlv.struct(0x420020, [ttlv.enumeration(0x420004, 254), ttlv.int(0x420005, 255)]),
  ],
];

describe('TTLV codec', () => {
  it.each(specExamples)('decodes and re-encodes %s byte for byte', (h, item) => {
    const bytes = hex(h);
    expect(decodeTtlv(bytes)).toEqual(item);
    expect(encodeTtlv(item).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('rejects a truncated item', () => {
    expect(codeOf(() => decodeTtlv(hex('4200200200000004000000080000')))).toBe('TTLV_TRUNCATED');
    expect(codeOf(() => decodeTtlv(hex('420020')))).toBe('TTLV_TRUNCATED');
  });

  it('rejects a wrong fixed length', () => {
    expect(codeOf(() => decodeTtlv(hex('42002002000000080000000000000008')))).toBe('TTLV_BAD_LENGTH');
  });

  it('rejects non-zero padding', () => {
    expect(codeOf(() => decodeTtlv(hex('42002002000000040000000800000001')))).toBe('TTLV_BAD_PADDING');
  });

  it('rejects an unknown item type', () => {
    expect(codeOf(() => decodeTtlv(hex('4200200B000000040000000800000000')))).toBe('TTLV_BAD_TYPE');
  });

  it('rejects a boolean other than 0 or 1', () => {
    expect(codeOf(() => decodeTtlv(hex('42002006000000080000000000000002')))).toBe('TTLV_BAD_VALUE');
  });

  it('rejects invalid UTF-8', () => {
    expect(codeOf(() => decodeTtlv(hex('4200200700000002C328000000000000')))).toBe('TTLV_BAD_VALUE');
  });

  it('rejects bytes after the item', () => {
    expect(codeOf(() => decodeTtlv(hex('420020020000000400000008000000000000000000000000')))).toBe('TTLV_TRAILING_BYTES');
  });

  it('rejects a child longer than its structure', () => {
    expect(codeOf(() => decodeTtlv(hex('420020010000000842000502000000040000000100000000')))).toBe('TTLV_TRUNCATED');
  });

  it('caps nesting depth', () => {
    let item: TtlvItem = ttlv.int(0x420020, 1);
    for (let i = 0; i < 40; i++) item = ttlv.struct(0x420020, [item]);
    const bytes = encodeTtlv(item);
    expect(codeOf(() => decodeTtlv(bytes))).toBe('TTLV_TOO_DEEP');
    expect(decodeTtlv(bytes, { maxDepth: 64 })).toEqual(item);
  });

  it('caps message size and item count', () => {
    const big = encodeTtlv(ttlv.bytes(0x420020, Buffer.alloc(2048)));
    expect(codeOf(() => decodeTtlv(big, { maxMessageSize: 1024 }))).toBe('TTLV_TOO_LARGE');
    const many = encodeTtlv(ttlv.struct(0x420020, Array.from({ length: 100 }, () => ttlv.int(0x420005, 1))));
    expect(codeOf(() => decodeTtlv(many, { maxItems: 50 }))).toBe('TTLV_TOO_MANY_ITEMS');
  });

  it('a huge declared length does not allocate', () => {
    expect(codeOf(() => decodeTtlv(hex('42002008FFFFFFF0')))).toBe('TTLV_TRUNCATED');
  });
});
