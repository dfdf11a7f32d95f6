import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readKeyFile } from '../../src/cli/key-source.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-keyfile-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('key files (crypto-util --key-file)', () => {
  it('reads a 0600 file of 64 hex characters into a Buffer', async () => {
    const key = randomBytes(32);
    const f = join(dir, 'k');
    await writeFile(f, `  ${key.toString('hex').toUpperCase()}\n`, { mode: 0o600 });
    expect(await readKeyFile(f)).toEqual(key);
  });

  it('refuses a world- or group-readable key file, as PEM private keys are refused', async () => {
    const f = join(dir, 'k');
    await writeFile(f, randomBytes(32).toString('hex'), { mode: 0o600 });
    await chmod(f, 0o644);
    await expect(readKeyFile(f)).rejects.toMatchObject({ message: expect.stringContaining('has mode 644') });
    await chmod(f, 0o640);
    await expect(readKeyFile(f)).rejects.toMatchObject({ message: expect.stringContaining('chmod 600') });
  });

  it('says "not hex" for 64 characters that are not hex, and counts otherwise', async () => {
    const f = join(dir, 'k');
    await writeFile(f, 'z'.repeat(64), { mode: 0o600 });
    await expect(readKeyFile(f)).rejects.toMatchObject({ message: expect.stringContaining('not hex') });
    await writeFile(f, 'ab'.repeat(10), { mode: 0o600 });
    await expect(readKeyFile(f)).rejects.toMatchObject({ message: expect.stringContaining('(got 20)') });
  });
});
