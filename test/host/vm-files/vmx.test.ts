import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wrapDek } from '../../../src/crypto/wrap.js';
import type { VmConfig } from '../../../src/host/vm-files/vm-config.js';
import { encodeVmx, openVmx, parseVmx, VMX_FORMAT } from '../../../src/host/vm-files/vmx.js';
import { writeNvram } from '../../../src/host/vm-files/nvram.js';
import { tempDir } from '../harness.js';

const config: VmConfig = {
  memoryMiB: 128,
  disks: [{ id: 'disk0', sizeBytes: 1 << 20, layers: [{ file: 'vm-disk0.luks', format: 'luks', wrappedDek: 'x' }] }],
  snapshots: [],
  nvram: 'vm.nvram',
  log: 'vm.log',
  serialPorts: 0,
  parallelPorts: 0,
};

function make(kek: Buffer, uuid = '11111111-2222-4333-8444-555555555555'): { text: string; vmDek: Buffer } {
  const vmDek = randomBytes(32);
  const disk = randomBytes(32);
  const cfg = { ...config, disks: [{ ...config.disks[0]!, layers: [{ file: 'vm-disk0.luks', format: 'luks' as const, wrappedDek: wrapDek(kek, disk, 'kek-1') }] }] };
  const text = encodeVmx(
    { format: VMX_FORMAT, name: 'vm', uuid, createdAt: 'now', storagePolicy: 'VM Encryption Policy', keySafe: { providerId: 'kp', keyId: 'kek-1', wrappedDek: wrapDek(kek, vmDek, 'kek-1') } },
    cfg,
    vmDek,
  );
  return { text, vmDek };
}

describe('.vmx', () => {
  it('keeps the configuration only in the encrypted section and opens with the KEK', () => {
    const kek = randomBytes(32);
    const { text, vmDek } = make(kek);
    expect(text).not.toContain('vm-disk0.luks');
    const doc = parseVmx(text, 'vm.vmx');
    const opened = openVmx(doc, kek, 'vm.vmx');
    expect(opened.vmDek.equals(vmDek)).toBe(true);
    expect(opened.config.memoryMiB).toBe(128);
  });

  it('binds the section to the uuid, tells a wrong KEK and tampering apart from bad input', () => {
    const kek = randomBytes(32);
    const a = JSON.parse(make(kek).text) as Record<string, unknown>;
    const moved = JSON.stringify({ ...a, uuid: '99999999-2222-4333-8444-555555555555' });
    expect(() => openVmx(parseVmx(moved, 'm.vmx'), kek, 'm.vmx')).toThrow(/encrypted section: failed authentication/);
    expect(() => openVmx(parseVmx(JSON.stringify(a), 'a.vmx'), randomBytes(32), 'a.vmx')).toThrow(/wrong key|does not open/);
    expect(() => parseVmx('{', 'x.vmx')).toThrow(/not valid JSON/);
    expect(() => parseVmx(JSON.stringify({ ...a, encrypted: '!!' }), 'x.vmx')).toThrow(/not base64/);
    expect(() => parseVmx(JSON.stringify({ ...a, keySafe: undefined }), 'x.vmx')).toThrow(/no keySafe/);
  });

  it('refuses bytes sealed for another purpose under the same DEK and uuid (NVRAM as the section)', async () => {
    const kek = randomBytes(32);
    const uuid = '11111111-2222-4333-8444-555555555555';
    const { text, vmDek } = make(kek, uuid);
    const dir = await tempDir('vmcrypt-vmx-');
    try {
      await writeNvram(join(dir.path, 'vm.nvram'), uuid, Buffer.from(JSON.stringify(config)), vmDek);
      const nvram = await readFile(join(dir.path, 'vm.nvram'));
      const swapped = JSON.stringify({ ...(JSON.parse(text) as object), encrypted: nvram.toString('base64') });
      expect(() => openVmx(parseVmx(swapped, 'vm.vmx'), kek, 'vm.vmx')).toThrow(expect.objectContaining({ code: 'HOST_VMX_TAMPERED' }));
    } finally {
      await dir.remove();
    }
  });
});
