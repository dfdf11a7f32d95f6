import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSealedLabKms, labSealFiles } from '../../../src/cli/lab/kms-seal.js';
import { initDataDir, kmsPaths } from '../../../src/kms/data-dir.js';
import { masterKeyKind, unlockMasterKey } from '../../../src/kms/unseal/unlock.js';

/** The lab's KMS is sealed like a real one; what unseals it lives beside, never inside, its data dir. */
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-lab-seal-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sharesIn = async (file: string): Promise<string[]> => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));

async function sameMasterEitherWay(dataDir: string, autoUnsealFile: string, shares: string[]): Promise<void> {
  const a = await unlockMasterKey(kmsPaths(dataDir), { autoUnsealFile });
  const b = await unlockMasterKey(kmsPaths(dataDir), { shares: [shares[4]!, shares[1]!, shares[2]!] });
  expect(a.equals(b)).toBe(true);
  a.fill(0);
  b.fill(0);
}

describe('lab KMS sealing', () => {
  it('a new lab: sealed data dir, auto-unseal file and 5 shares (0600, with the not-production warning) outside it; a rerun changes nothing', async () => {
    const lab = join(root, 'new');
    const files = labSealFiles(lab, 'single');
    const data = join(lab, 'kms');
    await ensureSealedLabKms(data, files, () => {});
    expect(await masterKeyKind(kmsPaths(data))).toBe('sealed');
    for (const f of [files.autoUnsealFile, files.sharesFile]) {
      expect(f.startsWith(`${data}/`)).toBe(false);
      expect((await stat(f)).mode & 0o777).toBe(0o600);
    }
    const text = await readFile(files.sharesFile, 'utf8');
    expect(text).toContain('A LAB IS NOT PRODUCTION');
    const shares = await sharesIn(files.sharesFile);
    expect(shares).toHaveLength(5);
    await sameMasterEitherWay(data, files.autoUnsealFile, shares);
    const sealed = await readFile(kmsPaths(data).masterSealed);
    await ensureSealedLabKms(data, files, () => {});
    expect(await readFile(files.sharesFile, 'utf8')).toBe(text);
    expect((await readFile(kmsPaths(data).masterSealed)).equals(sealed)).toBe(true);
  });

  it('an older lab with a clear master key is sealed in place (same key); a sealed one without its auto-unseal file is refused', async () => {
    const lab = join(root, 'old');
    const data = join(lab, 'kms');
    await initDataDir(data);
    expect(await masterKeyKind(kmsPaths(data))).toBe('clear');
    const before = await readFile(kmsPaths(data).masterKey);
    const lines: string[] = [];
    const files = labSealFiles(lab, 'single');
    await ensureSealedLabKms(data, files, (l) => lines.push(l));
    expect(await masterKeyKind(kmsPaths(data))).toBe('sealed');
    expect(lines.join('\n')).toMatch(/was in clear; it is sealed now/);
    const master = await unlockMasterKey(kmsPaths(data), { autoUnsealFile: files.autoUnsealFile });
    expect(before.equals(master)).toBe(true);
    master.fill(0);
    await sameMasterEitherWay(data, files.autoUnsealFile, await sharesIn(files.sharesFile));

    await rm(files.autoUnsealFile);
    await expect(ensureSealedLabKms(data, files, () => {})).rejects.toMatchObject({ code: 'LAB_START_FAILED', message: expect.stringContaining('auto-unseal file') });
  });
});
