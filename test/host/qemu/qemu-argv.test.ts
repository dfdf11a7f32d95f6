import { describe, expect, it } from 'vitest';
import { buildQemuArgv, countSecrets } from '../../../src/host/qemu/qemu-argv.js';

describe('buildQemuArgv', () => {
  const machine = {
    uuid: '11111111-2222-3333-4444-555555555555',
    name: 'vm,1',
    memoryMiB: 128,
    qmpSocket: '/run/x.qmp',
    disks: [
      {
        layers: [
          { file: '/ds/vm/d0.luks', format: 'luks' as const, encrypted: true },
          { file: '/ds/vm/d0-s1.qcow2', format: 'qcow2' as const, encrypted: true },
        ],
      },
      { layers: [{ file: '/ds/vm/d1.raw', format: 'raw' as const, encrypted: false }] },
    ],
  };

  it('uses TCG, one secret object per encrypted layer, an explicit backing chain', () => {
    expect(countSecrets(machine)).toBe(2);
    const { argv, secrets } = buildQemuArgv(machine, ['/run/s0.fifo', '/run/s1.fifo']);
    const line = argv.join(' ');
    expect(line).toContain('pc,accel=tcg');
    expect(line).not.toContain('kvm');
    expect(secrets).toEqual([{ disk: 0, layer: 0 }, { disk: 0, layer: 1 }]);
    expect(line).toContain('secret,id=sec-d0l0,format=raw,file=/run/s0.fifo');
    expect(line).toContain('driver=luks,node-name=d0l0,file=d0l0f,key-secret=sec-d0l0');
    expect(line).toContain('driver=qcow2,node-name=d0l1,file=d0l1f,backing=d0l0,encrypt.format=luks,encrypt.key-secret=sec-d0l1');
    expect(line).toContain('virtio-blk-pci,drive=d0l1,id=disk0');
    expect(line).toContain('virtio-blk-pci,drive=d1l0,id=disk1');
    expect(line).toContain('guest=vm,,1');
  });
});

describe('passphraseOf', () => {
  it('is the lowercase hex of the DEK, as bytes', async () => {
    const { passphraseOf } = await import('../../../src/host/qemu/disk-images.js');
    const dek = Buffer.from('00ff10a5' + '7'.repeat(56), 'hex');
    expect(passphraseOf(dek).toString('latin1')).toBe(dek.toString('hex'));
  });
});
