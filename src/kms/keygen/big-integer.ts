import { KmipError } from '../../kmip/errors.js';

/**
 * KMIP Big Integers (KMIP 1.4 §9.1.1.4: big-endian two's complement, a multiple of 8 bytes) of
 * the non-negative numbers transparent keys hold, to and from their unsigned big-endian bytes.
 */
export function toBigInteger(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const digits = unsigned.subarray(start);
  const needSignByte = ((digits[0] ?? 0) & 0x80) !== 0 ? 1 : 0;
  const len = Math.ceil((digits.length + needSignByte) / 8) * 8;
  const out = Buffer.alloc(len);
  digits.copy(out, len - digits.length);
  return out;
}

/** The unsigned bytes (no leading zeros; one zero byte for 0) of a non-negative Big Integer. */
export function fromBigInteger(big: Buffer): Buffer {
  if (((big[0] ?? 0) & 0x80) !== 0) throw new KmipError('KMIP_INVALID_FIELD', 'a key field is a negative Big Integer');
  let start = 0;
  while (start < big.length - 1 && big[start] === 0) start++;
  return Buffer.from(big.subarray(start));
}

/** `unsigned` left-padded with zeros to `size` bytes (EC coordinates and scalars have a fixed size). */
export function padTo(unsigned: Buffer, size: number): Buffer {
  if (unsigned.length > size) throw new KmipError('KMIP_INVALID_FIELD', 'a key field is longer than its curve allows');
  const out = Buffer.alloc(size);
  unsigned.copy(out, size - unsigned.length);
  return out;
}
