import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createCa, openPrivateKey, sealPrivateKey } from '../../src/pki/index.js';

describe('sealed private keys', () => {
  it('round-trips and hides the key', async () => {
    const { keyPem } = await createCa({ commonName: 'x' });
    const mk = randomBytes(32);
    const sealed = sealPrivateKey(keyPem, mk, 'provider-1');
    expect(sealed).not.toContain('PRIVATE');
    expect(Buffer.from(sealed, 'base64').subarray(0, 5).toString('latin1')).toBe('VMCE\x02');
    const body = keyPem.split('\n')[1] ?? '';
    expect(Buffer.from(sealed, 'base64').includes(Buffer.from(body))).toBe(false);
    expect(openPrivateKey(sealed, mk, 'provider-1')).toBe(keyPem);
  });

  it('refuses a wrong master key, wrong context, altered bytes, bad versions', () => {
    const mk = randomBytes(32);
    const sealed = sealPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', mk, 'a');
    expect(() => openPrivateKey(sealed, randomBytes(32), 'a')).toThrow(expect.objectContaining({ code: 'PKI_UNSEAL_FAILED' }));
    expect(() => openPrivateKey(sealed, mk, 'b')).toThrow(expect.objectContaining({ code: 'PKI_UNSEAL_FAILED' }));
    const blob = Buffer.from(sealed, 'base64');
    blob[20] = (blob[20] ?? 0) ^ 1;
    expect(() => openPrivateKey(blob.toString('base64'), mk, 'a')).toThrow(expect.objectContaining({ code: 'PKI_UNSEAL_FAILED' }));
    const v9 = Buffer.from(sealed, 'base64');
    v9[4] = 9;
    expect(() => openPrivateKey(v9.toString('base64'), mk, 'a')).toThrow(/version 9/);
    expect(() => openPrivateKey(Buffer.from('not sealed at all, not at all').toString('base64'), mk, 'a')).toThrow(expect.objectContaining({ code: 'PKI_UNSEAL_FAILED' }));
    expect(() => openPrivateKey('', mk)).toThrow(expect.objectContaining({ code: 'PKI_UNSEAL_FAILED' }));
    expect(() => sealPrivateKey('k', Buffer.alloc(16))).toThrow(expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }));
  });
});
