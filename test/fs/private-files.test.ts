import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isGroupOrOtherAccessible,
  makePrivateDir,
  makePrivateDirSync,
  modeString,
  openPrivateFile,
  preparePrivateFileSync,
  writePrivateFile,
} from '../../src/fs/private-files.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmcrypt-fs-private-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

describe('makePrivateDir', () => {
  it('creates the directory and its parents with mode 0700', async () => {
    const d = join(root, 'a', 'b', 'c');
    await makePrivateDir(d);
    expect(await modeOf(d)).toBe(0o700);
    await makePrivateDir(d); // already there: fine
  });

  it('leaves an existing directory alone unless asked to tighten it', async () => {
    const d = join(root, 'by-hand');
    await mkdir(d);
    await chmod(d, 0o755);
    await makePrivateDir(d);
    expect(await modeOf(d)).toBe(0o755);
    await makePrivateDir(d, { tighten: true });
    expect(await modeOf(d)).toBe(0o700);
  });

  it('exclusive: refuses a directory that exists, and does not create parents', async () => {
    const d = join(root, 'mine');
    await makePrivateDir(d, { exclusive: true });
    await expect(makePrivateDir(d, { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makePrivateDir(join(root, 'no', 'parent'), { exclusive: true })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('synchronous twins', () => {
  it('makePrivateDirSync creates 0700 and tightens an existing directory only when asked', async () => {
    const d = join(root, 'sync', 'data');
    makePrivateDirSync(d);
    expect(await modeOf(d)).toBe(0o700);
    await chmod(d, 0o755);
    makePrivateDirSync(d);
    expect(await modeOf(d)).toBe(0o755);
    makePrivateDirSync(d, { tighten: true });
    expect(await modeOf(d)).toBe(0o700);
    expect(() => makePrivateDirSync(d, { exclusive: true })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it('preparePrivateFileSync creates an empty 0600 file, tightens a loose one and keeps its content', async () => {
    const f = join(root, 'manager.db');
    preparePrivateFileSync(f);
    expect(await modeOf(f)).toBe(0o600);
    expect(await readFile(f, 'utf8')).toBe('');
    const loose = join(root, 'loose.db');
    await writeFile(loose, 'rows', { mode: 0o644 });
    preparePrivateFileSync(loose);
    expect(await modeOf(loose)).toBe(0o600);
    expect(await readFile(loose, 'utf8')).toBe('rows');
  });
});

describe('private files', () => {
  it('writePrivateFile creates 0600 and overwrites; exclusive refuses an existing file', async () => {
    const f = join(root, 'agent.pid');
    await writePrivateFile(f, '123');
    expect(await modeOf(f)).toBe(0o600);
    await writePrivateFile(f, '456');
    expect(await readFile(f, 'utf8')).toBe('456');
    await expect(writePrivateFile(f, '789', { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(f, 'utf8')).toBe('456');
  });

  it('openPrivateFile creates 0600 with the given flags', async () => {
    const f = join(root, 'audit.log');
    const fh = await openPrivateFile(f, 'a');
    await fh.write('one\n');
    await fh.close();
    expect(await modeOf(f)).toBe(0o600);
    await expect(openPrivateFile(f, 'wx')).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('tells a private mode from one group/others can access', () => {
    expect(isGroupOrOtherAccessible(0o100600)).toBe(false);
    expect(isGroupOrOtherAccessible(0o100400)).toBe(false);
    expect(isGroupOrOtherAccessible(0o100640)).toBe(true);
    expect(isGroupOrOtherAccessible(0o100604)).toBe(true);
    expect(modeString(0o100644)).toBe('644');
    expect(modeString(0o40700)).toBe('700');
  });
});
