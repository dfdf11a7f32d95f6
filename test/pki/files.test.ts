import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, readPemFile, writeCertificateFile, writePrivateKeyFile } from '../../src/pki/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-pki-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PEM files', () => {
  it('writes keys 0600 and certificates 0644, reads them back', async () => {
    const ca = await createCa({ commonName: 'files' });
    await writePrivateKeyFile(join(dir, 'sub', 'ca.key'), ca.keyPem);
    await writeCertificateFile(join(dir, 'sub', 'ca.pem'), ca.certPem);
    expect((await stat(join(dir, 'sub', 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'sub', 'ca.pem'))).mode & 0o777).toBe(0o644);
    expect(await readPemFile(join(dir, 'sub', 'ca.key'), { privateKey: true })).toBe(ca.keyPem);
    expect(await readPemFile(join(dir, 'sub', 'ca.pem'))).toBe(ca.certPem);
  });

  it('leaves no temp file holding the key when the write fails', async () => {
    const sub = join(dir, 'fail');
    await mkdir(join(sub, 'taken.key'), { recursive: true }); // a directory where the key should go
    const ca = await createCa({ commonName: 'fail' });
    await expect(writePrivateKeyFile(join(sub, 'taken.key'), ca.keyPem)).rejects.toThrow();
    expect(await readdir(sub)).toEqual(['taken.key']);
  });

  it('refuses a private key readable by others', async () => {
    const p = join(dir, 'open.key');
    await writePrivateKeyFile(p, 'x');
    await chmod(p, 0o644);
    await expect(readPemFile(p, { privateKey: true })).rejects.toMatchObject({ code: 'PKI_INVALID_ARGUMENT' });
  });
});
