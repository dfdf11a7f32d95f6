import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { masterKeyIdOf } from '../../../src/kms/store/etcd-master-key-id.js';

describe('masterKeyIdOf', () => {
  it('is stable per key, differs between keys, and does not contain the key', () => {
    const k = randomBytes(32);
    expect(masterKeyIdOf(k)).toBe(masterKeyIdOf(Buffer.from(k)));
    expect(masterKeyIdOf(k)).not.toBe(masterKeyIdOf(randomBytes(32)));
    expect(masterKeyIdOf(k)).toMatch(/^[0-9a-f]{32}$/);
    expect(k.toString('hex')).not.toContain(masterKeyIdOf(k));
  });
});
