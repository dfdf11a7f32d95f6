import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateDek } from '../../src/crypto/dek.js';
import { cryptoErrorCode } from './error-code.js';
import { looksSealed, openSealed, seal, SEAL_HEADER_BYTES, SEAL_OVERHEAD_BYTES } from '../../src/crypto/gcm-seal.js';
import { encodeSealContext, type BindingPart, type SealContext } from '../../src/crypto/seal-context.js';
import { SealPurpose } from '../../src/crypto/seal-purpose.js';

interface Vector {
  name: string; key: string; nonce: string; plaintext: string; purpose: SealPurpose;
  binding: ({ utf8: string } | { hex: string } | { uint: number })[]; context: string; sealed: string;
}
const file = JSON.parse(readFileSync(new URL('../vectors/crypto/gcm-seal.json', import.meta.url), 'utf8')) as {
  vectors: Vector[]; v1: { key: string; aad: string; plaintext: string; sealed: string };
};
const part = (p: Vector['binding'][number]): BindingPart => ('utf8' in p ? p.utf8 : 'hex' in p ? Buffer.from(p.hex, 'hex') : p.uint);
const ctxOf = (v: Vector): SealContext => ({ purpose: v.purpose, binding: v.binding.map(part) });

const code = cryptoErrorCode;

describe('gcm-seal: known answers from an independent implementation (pyca/cryptography)', () => {
  it.each(file.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(encodeSealContext(ctxOf(v)).toString('hex')).toBe(v.context);
    const sealed = Buffer.from(v.sealed, 'hex');
    expect(sealed.subarray(8, 20).toString('hex')).toBe(v.nonce);
    expect(openSealed(Buffer.from(v.key, 'hex'), sealed, ctxOf(v)).toString('hex')).toBe(v.plaintext);
  });

  it('opens a version-1 envelope only where the caller accepts it, with its raw AAD', () => {
    const { key, aad, plaintext, sealed } = file.v1;
    const ctx = { purpose: SealPurpose.NVRAM, binding: ['uuid'] } as const;
    const box = Buffer.from(sealed, 'hex');
    expect(openSealed(Buffer.from(key, 'hex'), box, ctx, { v1Aad: Buffer.from(aad, 'hex') }).toString('hex')).toBe(plaintext);
    expect(code(() => openSealed(Buffer.from(key, 'hex'), box, ctx))).toBe('MALFORMED');
    expect(code(() => openSealed(Buffer.from(key, 'hex'), box, ctx, { v1Aad: Buffer.from('uuid:log:0') }))).toBe('TAMPERED');
  });
});

describe('gcm-seal: round trip, header and AAD tampering', () => {
  const key = generateDek();
  const ctx: SealContext = { purpose: SealPurpose.VM_LOG_RECORD, binding: ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', 3] };
  const box = seal(key, Buffer.from('secret line'), ctx);

  it('round-trips with a fresh nonce, and an empty plaintext', () => {
    expect(box.length).toBe(SEAL_OVERHEAD_BYTES + 11);
    expect(looksSealed(box)).toBe(true);
    expect(box[4]).toBe(2);
    expect(openSealed(key, box, ctx).toString()).toBe('secret line');
    expect(seal(key, Buffer.from('secret line'), ctx).equals(box)).toBe(false);
    expect(openSealed(key, seal(key, Buffer.alloc(0), ctx), ctx).length).toBe(0);
    expect(box.includes(Buffer.from('secret'))).toBe(false);
  });

  it('tells a wrong key from tampering', () => {
    expect(code(() => openSealed(generateDek(), box, ctx))).toBe('WRONG_KEY');
  });

  // magic 0-3, version 4, alg 5, reserved 6-7: MALFORMED; nonce 8-19: the kcv no longer matches
  // (WRONG_KEY, the same as another key); kcv 20-35: WRONG_KEY; body and tag: TAMPERED.
  const expected = (i: number): string => (i < 8 ? 'MALFORMED' : i < SEAL_HEADER_BYTES ? 'WRONG_KEY' : 'TAMPERED');
  it('refuses a change to any byte, header field by field', () => {
    for (let i = 0; i < box.length; i++) {
      const t = Buffer.from(box);
      t[i] = t[i]! ^ 0x01;
      expect([i, code(() => openSealed(key, t, ctx))]).toEqual([i, expected(i)]);
    }
  });

  it('refuses a version or algorithm it does not know, truncation and appended bytes', () => {
    for (const [i, v] of [[4, 3], [4, 0], [5, 2]] as const) {
      const t = Buffer.from(box);
      t[i] = v;
      expect(code(() => openSealed(key, t, ctx))).toBe('MALFORMED');
    }
    expect(code(() => openSealed(key, box.subarray(0, SEAL_OVERHEAD_BYTES - 1), ctx))).toBe('MALFORMED');
    expect(code(() => openSealed(key, box.subarray(0, box.length - 1), ctx))).toBe('TAMPERED');
    expect(code(() => openSealed(key, Buffer.concat([box, Buffer.from([0])]), ctx))).toBe('TAMPERED');
  });

  it('binds the purpose and every binding part (the AAD)', () => {
    expect(code(() => openSealed(key, box, { ...ctx, purpose: SealPurpose.NVRAM }))).toBe('TAMPERED');
    expect(code(() => openSealed(key, box, { ...ctx, binding: ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4c', 3] }))).toBe('TAMPERED');
    expect(code(() => openSealed(key, box, { ...ctx, binding: ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', 4] }))).toBe('TAMPERED');
    expect(code(() => openSealed(key, box, { ...ctx, binding: ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'] }))).toBe('TAMPERED');
    expect(code(() => openSealed(key, box, { ...ctx, binding: ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', '3'] }))).toBe('TAMPERED');
  });

  it('encodes contexts unambiguously', () => {
    const enc = (binding: BindingPart[]): string => encodeSealContext({ purpose: SealPurpose.NVRAM, binding }).toString('hex');
    expect(enc(['ab', 'c'])).not.toBe(enc(['a', 'bc']));
    expect(enc(['a'])).not.toBe(enc([Buffer.from('a')]));
    expect(enc([1])).not.toBe(enc(['1']));
  });

  it('guards its inputs with labelled errors', () => {
    expect(() => seal(Buffer.alloc(16), Buffer.alloc(1), ctx)).toThrow(/key: expected 32 bytes, got 16/);
    expect(code(() => seal(key, 'text' as unknown as Buffer, ctx))).toBe('BAD_INPUT');
    expect(code(() => seal(key, Buffer.alloc(1), { purpose: 'Bad Purpose' as SealPurpose, binding: ['x'] }))).toBe('BAD_INPUT');
    expect(code(() => seal(key, Buffer.alloc(1), { ...ctx, binding: [] }))).toBe('BAD_INPUT');
    expect(code(() => seal(key, Buffer.alloc(1), { ...ctx, binding: [-1] }))).toBe('BAD_INPUT');
    expect(code(() => seal(key, Buffer.alloc(1), { ...ctx, binding: ['x'.repeat(4097)] }))).toBe('BAD_INPUT');
    expect(code(() => seal(key, Buffer.alloc(1), { ...ctx, binding: Array.from({ length: 17 }, () => 'x') }))).toBe('BAD_INPUT');
  });
});
