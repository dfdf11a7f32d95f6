import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAtomically, writeAtomicallySync } from '../../src/fs/atomic-file.js';
import { fsyncDir, fsyncDirSync } from '../../src/fs/fsync-dir.js';
import { readAt, writeAt } from '../../src/fs/positional-io.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-fs-atomic-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeAtomically', () => {
  it('replaces the target whole, 0600 (the temp file may hold key material), leaving no temp file', async () => {
    const target = join(root, 'layout.json');
    await writeFile(target, 'old');
    await writeAtomically(target, (fh) => fh.writeFile('new'));
    expect(await readFile(target, 'utf8')).toBe('new');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect((await readdir(root)).filter((n) => n.includes('vmcrypt-tmp'))).toEqual([]);
  });

  it('keeps the old file and removes the temp file when the writer fails', async () => {
    const target = join(root, 'keep.json');
    await writeFile(target, 'old');
    await expect(
      writeAtomically(target, async (fh) => {
        await fh.writeFile('half');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await readFile(target, 'utf8')).toBe('old');
    expect((await readdir(root)).filter((n) => n.includes('vmcrypt-tmp'))).toEqual([]);
  });
});

describe('writeAtomicallySync', () => {
  it('replaces the target whole, 0600, leaving no temp file', async () => {
    const target = join(root, 'secret.bin');
    await writeFile(target, 'old');
    writeAtomicallySync(target, Buffer.from('new bytes'));
    expect(await readFile(target, 'utf8')).toBe('new bytes');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect((await readdir(root)).filter((n) => n.includes('vmcrypt-tmp'))).toEqual([]);
  });

  it('removes the temp file when the rename fails (the target is a non-empty directory)', async () => {
    const target = join(root, 'taken');
    await mkdir(join(target, 'inside'), { recursive: true });
    expect(() => writeAtomicallySync(target, Buffer.from('x'))).toThrow();
    expect((await readdir(root)).filter((n) => n.includes('vmcrypt-tmp'))).toEqual([]);
  });
});

describe('fsyncDir', () => {
  it('syncs a directory and fails on one that does not exist', async () => {
    await fsyncDir(root);
    await expect(fsyncDir(join(root, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    fsyncDirSync(root);
    expect(() => fsyncDirSync(join(root, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('positional I/O', () => {
  it('writes at an offset and reads it back; a read past the end returns what there is', async () => {
    const { open } = await import('node:fs/promises');
    const fh = await open(join(root, 'pos.bin'), 'w+');
    try {
      await writeAt(fh, Buffer.from('hello'), 4096);
      const buf = Buffer.alloc(10);
      expect(await readAt(fh, buf, 4096)).toBe(5);
      expect(buf.subarray(0, 5).toString()).toBe('hello');
      expect(await readAt(fh, Buffer.alloc(4), 0)).toBe(4);
      expect(await readAt(fh, Buffer.alloc(4), 1 << 20)).toBe(0);
    } finally {
      await fh.close();
    }
  });
});
