import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { generateDek } from '../../src/crypto/dek.js';
import { ENVELOPE_HEADER_BYTES, openEnvelope, sealEnvelope } from '../../src/crypto/envelope.js';
import { openFile, sealFile } from '../../src/crypto/envelope-file.js';
import { CryptoError } from '../../src/crypto/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'vmcrypt-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function code(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError);
    return (err as CryptoError).code;
  }
  return undefined;
}

describe('GCM envelope', () => {
  const key = generateDek();
  const aad = Buffer.from('vm-uuid-1');

  it('round-trips, authenticates header, body and AAD', async () => {
    const env = sealEnvelope(key, Buffer.from('secret config'), aad);
    expect(env.subarray(0, 4).toString()).toBe('VMCE');
    expect(openEnvelope(key, env, aad).toString()).toBe('secret config');
    expect(openEnvelope(key, sealEnvelope(key, Buffer.alloc(0), aad), aad).length).toBe(0);
    expect(await code(() => openEnvelope(key, env, Buffer.from('vm-uuid-2')))).toBe('TAMPERED');
    expect(await code(() => openEnvelope(generateDek(), env, aad))).toBe('WRONG_KEY');
    for (const i of [ENVELOPE_HEADER_BYTES + 2, env.length - 1]) {
      const t = Buffer.from(env);
      t[i] = t[i]! ^ 0x80;
      expect(await code(() => openEnvelope(key, t, aad))).toBe('TAMPERED');
    }
    const badVersion = Buffer.from(env);
    badVersion[4] = 9;
    expect(await code(() => openEnvelope(key, badVersion, aad))).toBe('MALFORMED');
    expect(await code(() => openEnvelope(key, Buffer.from('short'), aad))).toBe('MALFORMED');
  });

  it('streams big files in authenticated chunks, atomically', async () => {
    const src = join(dir, 'core');
    const data = randomBytes(300_000);
    writeFileSync(src, data);
    const enc = join(dir, 'core.enc');
    await sealFile(key, src, enc, aad, 64 * 1024);
    await openFile(key, enc, join(dir, 'core.out'), aad);
    expect(readFileSync(join(dir, 'core.out')).equals(data)).toBe(true);

    const sealed = readFileSync(enc);
    expect(await code(() => openFile(generateDek(), enc, join(dir, 'x1'), aad))).toBe('WRONG_KEY');
    writeFileSync(join(dir, 'trunc.enc'), sealed.subarray(0, 39 + (64 * 1024 + 16) * 2)); // whole chunks dropped
    expect(await code(() => openFile(key, join(dir, 'trunc.enc'), join(dir, 'x2'), aad))).toBe('TAMPERED');
    const flipped = Buffer.from(sealed);
    flipped[100_000] = flipped[100_000]! ^ 1;
    writeFileSync(join(dir, 'flip.enc'), flipped);
    expect(await code(() => openFile(key, join(dir, 'flip.enc'), join(dir, 'x3'), aad))).toBe('TAMPERED');
    expect(existsSync(join(dir, 'x3'))).toBe(false); // nothing half-written left behind
    writeFileSync(join(dir, 'junk.enc'), Buffer.from('not an envelope at all, clearly not'));
    expect(await code(() => openFile(key, join(dir, 'junk.enc'), join(dir, 'x4'), aad))).toBe('MALFORMED');
  });

  it('handles an empty file', async () => {
    writeFileSync(join(dir, 'empty'), Buffer.alloc(0));
    await sealFile(key, join(dir, 'empty'), join(dir, 'empty.enc'), aad);
    await openFile(key, join(dir, 'empty.enc'), join(dir, 'empty.out'), aad);
    expect(readFileSync(join(dir, 'empty.out')).length).toBe(0);
  });
});
