import { describe, expect, it } from 'vitest';
import { generateDek, dekFromHex, dekFromHexBytes, dekToHex } from '../../src/crypto/dek.js';
import { unwrapDek, wrapDek, WRAP_PREFIX } from '../../src/crypto/wrap.js';
import { abytes, constantTimeEqual, zero } from '../../src/crypto/guards.js';
import { cryptoErrorCode } from './error-code.js';

const code = cryptoErrorCode;

describe('DEK and key wrap', () => {
  it('round-trips a DEK and its hex form', () => {
    const dek = generateDek();
    expect(dek.length).toBe(32);
    expect(dekFromHex(`  ${dekToHex(dek)}\n`).equals(dek)).toBe(true);
    expect(code(() => dekFromHex('abc'))).toBe('MALFORMED');
    expect(code(() => dekFromHex('zz'.repeat(32)))).toBe('MALFORMED');
    // The key-file path parses bytes, never a string, with the same rules.
    expect(dekFromHexBytes(Buffer.from(`\t${dekToHex(dek).toUpperCase()}\r\n`)).equals(dek)).toBe(true);
    expect(code(() => dekFromHexBytes(Buffer.from('abc')))).toBe('MALFORMED');
    expect(code(() => dekFromHexBytes(Buffer.from(`${dekToHex(dek).slice(0, 63)}g`)))).toBe('MALFORMED');
    expect(code(() => dekFromHexBytes(Buffer.from(`${dekToHex(dek).slice(0, 32)} ${dekToHex(dek).slice(32, 63)}`)))).toBe('MALFORMED');
    expect(() => dekFromHexBytes(Buffer.from('0'.repeat(63) + 'z'))).toThrow(/exactly 64 hex characters \(got 64 characters\)$/);
  });

  it('wraps and unwraps, bound to the key id', () => {
    const kek = generateDek();
    const dek = generateDek();
    const w = wrapDek(kek, dek, 'kek-1');
    expect(w.startsWith(WRAP_PREFIX)).toBe(true);
    expect(w).not.toContain(dekToHex(dek));
    expect(unwrapDek(kek, w, 'kek-1').equals(dek)).toBe(true);
    expect(wrapDek(kek, dek, 'kek-1')).not.toBe(w); // fresh nonce each time
    expect(code(() => unwrapDek(generateDek(), w, 'kek-1'))).toBe('WRONG_KEY');
    expect(code(() => unwrapDek(kek, w, 'kek-2'))).toBe('TAMPERED');
  });

  it('detects tampering and malformed input', () => {
    const kek = generateDek();
    const w = wrapDek(kek, generateDek(), 'k');
    const raw = Buffer.from(w.slice(WRAP_PREFIX.length), 'base64');
    raw[40] = raw[40]! ^ 1; // a ciphertext byte
    expect(code(() => unwrapDek(kek, WRAP_PREFIX + raw.toString('base64'), 'k'))).toBe('TAMPERED');
    expect(code(() => unwrapDek(kek, 'v2:other:AAAA', 'k'))).toBe('MALFORMED');
    expect(code(() => unwrapDek(kek, `${WRAP_PREFIX}AAAA`, 'k'))).toBe('MALFORMED');
    expect(code(() => unwrapDek(kek, `${WRAP_PREFIX}!!!`, 'k'))).toBe('MALFORMED');
    expect(code(() => wrapDek(Buffer.alloc(16), generateDek(), 'k'))).toBe('BAD_INPUT');
    expect(code(() => wrapDek(kek, generateDek(), ''))).toBe('BAD_INPUT');
  });

  it('guards label their argument and zero buffers', () => {
    expect(() => abytes(Buffer.alloc(3), 32, 'kek')).toThrow(/kek: expected 32 bytes, got 3/);
    expect(() => abytes('x', 32, 'dek')).toThrow(/dek: expected bytes/);
    const a = Buffer.from([1, 2, 3]);
    expect(constantTimeEqual(a, Buffer.from([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(a, Buffer.from([1, 2]))).toBe(false);
    zero(a, undefined);
    expect([...a]).toEqual([0, 0, 0]);
  });
});
