import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkDiskKey } from '../../../src/disk/index.js';
import { HostEvents } from '../../../src/host/events.js';
import { CryptoMode, HostStore } from '../../../src/host/host-store.js';
import { KeyCache } from '../../../src/host/keys/key-cache.js';
import { createVm } from '../../../src/host/vm/vm-create.js';
import { layerDek, withOpenVm, type HostContext } from '../../../src/host/vm/vm-open.js';
import { deepRekey, rewrittenName } from '../../../src/host/vm/vm-recrypt.js';
import { tempDir } from '../harness.js';

// Deep rekey has ONE commit point (the .vmx rename): a failure half-way (here: the second
// disk cannot be read) must leave the VM exactly as it was, every disk still opening with
// the DEK the unchanged .vmx holds — not the first disk rewritten under a key that is lost.
describe('host: deep rekey commits all or nothing', () => {
  let dir: { path: string; remove(): Promise<void> };
  let ctx: HostContext;

  beforeEach(async () => {
    dir = await tempDir('vmcrypt-recrypt-commit-');
    const store = await HostStore.open(join(dir.path, 'data'), 'esx-c');
    await store.update((s) => ({ ...s, cryptoMode: CryptoMode.SAFE }));
    const cache = new KeyCache();
    cache.put('k1', randomBytes(32));
    cache.put('k2', randomBytes(32));
    ctx = { store, cache, events: new HostEvents(), runDir: join(dir.path, 'data') };
  });
  afterEach(async () => {
    ctx.cache.clear();
    await dir.remove();
  });

  it('a failure on the second disk leaves the .vmx, the first disk and the NVRAM untouched', async () => {
    const { vmxPath } = await createVm(ctx, {
      name: 'two', datastore: 'local', memoryMiB: 64, disks: [{ sizeBytes: 1 << 20 }, { sizeBytes: 1 << 20 }],
      encryption: { providerId: 'kp', keyId: 'k1' },
    });
    const vmDir = dirname(vmxPath);
    await writeFile(join(vmDir, 'two-disk1.luks'), randomBytes(1 << 20)); // unreadable second disk
    const vmxBefore = await readFile(vmxPath, 'utf8');
    const filesBefore = (await readdir(vmDir)).sort();

    const err = await withOpenVm(ctx, vmxPath, (vm) => deepRekey(vm, ctx.cache, { providerId: 'kp', keyId: 'k2' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);

    expect(await readFile(vmxPath, 'utf8')).toBe(vmxBefore);
    expect((await readdir(vmDir)).sort()).toEqual(filesBefore); // no half-made copies left
    await withOpenVm(ctx, vmxPath, async (vm) => {
      const layer = vm.config.disks[0]?.layers[0];
      expect(layer?.file).toBe('two-disk0.luks');
      const dek = layerDek(vm, layer!);
      try {
        await expect(checkDiskKey(join(vmDir, layer!.file), dek)).resolves.toMatchObject({ slot: expect.any(Number) });
      } finally {
        dek.fill(0);
      }
    });
  });

  it('a successful deep rekey switches every file at once and removes the old ones', async () => {
    const { vmxPath } = await createVm(ctx, {
      name: 'one', datastore: 'local', memoryMiB: 64, disks: [{ sizeBytes: 1 << 20 }], encryption: { providerId: 'kp', keyId: 'k1' },
    });
    const vmDir = dirname(vmxPath);
    await withOpenVm(ctx, vmxPath, (vm) => deepRekey(vm, ctx.cache, { providerId: 'kp', keyId: 'k2' }));
    await withOpenVm(ctx, vmxPath, async (vm) => {
      expect(vm.doc.keySafe?.keyId).toBe('k2');
      const layer = vm.config.disks[0]?.layers[0];
      expect(layer?.file).toMatch(/^one-disk0-k[0-9a-f]{8}\.luks$/);
      expect((await readdir(vmDir)).sort()).toEqual([layer!.file, 'one.vmx', vm.config.log, vm.config.nvram].sort());
      const dek = layerDek(vm, layer!);
      try {
        await checkDiskKey(join(vmDir, layer!.file), dek);
      } finally {
        dek.fill(0);
      }
    });
  });

  it('names rewritten copies STEM-kXXXXXXXX.EXT without stacking tags', () => {
    const once = rewrittenName('vm-disk0.luks');
    expect(once).toMatch(/^vm-disk0-k[0-9a-f]{8}\.luks$/);
    expect(rewrittenName(once)).toMatch(/^vm-disk0-k[0-9a-f]{8}\.luks$/);
    expect(rewrittenName('my.vm.nvram')).toMatch(/^my\.vm-k[0-9a-f]{8}\.nvram$/);
  });
});
