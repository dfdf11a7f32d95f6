import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CryptoMode, HostStore } from '../../src/host/host-store.js';
import { tempDir } from './harness.js';

describe('HostStore.update', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('vmcrypt-host-store-');
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('is on disk once it resolves', async () => {
    const store = await HostStore.open(join(dir.path, 'data'), 'esx-s');
    await store.update((s) => ({ ...s, cryptoMode: CryptoMode.PREPARED }));
    expect(JSON.parse(await readFile(join(dir.path, 'data', 'host.json'), 'utf8'))).toMatchObject({ cryptoMode: 'prepared' });
  });

  it('undoes a change it could not save (the caller got an error: it must not stay in force)', async () => {
    const data = join(dir.path, 'data');
    const store = await HostStore.open(data, 'esx-s');
    await rm(data, { recursive: true, force: true }); // the next save cannot write
    await expect(store.update((s) => ({ ...s, cryptoMode: CryptoMode.SAFE, hostKeyId: 'hk' }))).rejects.toThrow();
    expect(store.state.cryptoMode).toBe(CryptoMode.INCAPABLE);
    expect(store.state.hostKeyId).toBeUndefined();
  });
});
