import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrapDek } from '../../src/crypto/wrap.js';
import type { HostClient } from '../../src/host/client/host-client.js';
import { passphraseOf, runQemuTool } from '../../src/host/qemu/disk-images.js';
import { decodeVmLog } from '../../src/host/vm-files/vm-log.js';
import { openVmx, readVmx } from '../../src/host/vm-files/vmx.js';
import { ensureTinyGuest, guestAppend, GUEST_PATTERN_OFFSET, GUEST_RESULT_OFFSET, tinyGuestRequired, type TinyGuest } from '../helpers/guest.js';
import { stopAll } from '../helpers/process.js';
import { makeManagerIdentity, pairedClient, scanForKeys, startAgentProcess, tempDir, type AgentProcess, type ManagerIdentity } from './harness.js';

// A real Linux guest (Debian cloud kernel + busybox initramfs) on an encrypted VM: it writes
// a pattern to /dev/vda through virtio-blk, QEMU's LUKS driver encrypts beneath it; after an
// agent restart (host reboot) and a key push the guest boots again and reads it back.
const guest = await ensureTinyGuest();
const skipReason = typeof guest === 'string' ? guest : undefined;

interface Vm {
  uuid: string;
  vmx: string;
  powerState: string;
  crypto: { state: string };
}

describe.skipIf(skipReason !== undefined)('host agent: real guest on an encrypted VM', () => {
  let dir: { path: string; remove(): Promise<void> };
  let data: string;
  let agent: AgentProcess;
  let id: ManagerIdentity;
  let c: HostClient;
  let vm: Vm;
  const kek = randomBytes(32);
  const hostKey = randomBytes(32);
  const pattern = `VMCRYPT-${randomBytes(8).toString('hex')}`;
  const push = (): Promise<unknown> =>
    c.call('POST', '/v1/keys', { keys: [{ keyId: 'kek-g', key: kek.toString('base64') }, { keyId: 'hostkey-g', key: hostKey.toString('base64') }] });

  async function bootAndWaitForPowerOff(): Promise<void> {
    await c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'on' });
    for (let i = 0; i < 600; i++) {
      const s = await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`);
      if (s.powerState === 'poweredOff') return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('guest did not power off within 120 s');
  }

  /** Reads guest-visible bytes of the disk with its DEK (what a support tool with the key could do). */
  async function readGuestDisk(offset: number, length: number): Promise<string> {
    const doc = await readVmx(vm.vmx);
    const { config, vmDek } = openVmx(doc, kek, vm.vmx);
    vmDek.fill(0);
    const layer = config.disks[0]?.layers[0];
    const dek = unwrapDek(kek, layer?.wrappedDek ?? '', 'kek-g');
    const file = join(data, 'datastores', 'local', 'guestvm', layer?.file ?? '');
    const out = await runQemuTool(
      'qemu-io',
      ['--object', 'secret,id=s0,format=raw,file=@SECRET0@', '-r', '--image-opts', `driver=luks,key-secret=s0,file.filename=${file}`, '-c', `read -v ${offset} ${length}`],
      [passphraseOf(dek)],
    );
    dek.fill(0);
    // "00002000:  52 45 41 44 ...  READ..." → decode the hex byte columns
    const hex = out
      .split('\n')
      .filter((l) => /^[0-9a-f]{8}:/.test(l))
      .map((l) => (l.slice(10, 10 + 16 * 3).match(/[0-9a-f]{2}/g) ?? []).join(''))
      .join('');
    return Buffer.from(hex, 'hex').toString('latin1');
  }

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-guest-');
    data = join(dir.path, 'data');
    id = await makeManagerIdentity();
    agent = await startAgentProcess(data, 'esx-g');
    c = await pairedClient(agent, id);
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await push();
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hostkey-g' });
  });
  afterAll(async () => {
    await stopAll();
    await dir?.remove();
  });

  it('boots, writes the pattern, powers off; the disk file holds no plaintext of it', async () => {
    const g = guest as TinyGuest;
    vm = await c.call<Vm>('POST', '/v1/vms', {
      name: 'guestvm', memoryMiB: 192, disks: [{ sizeBytes: 16 << 20 }],
      encryption: { providerId: 'kp-1', keyId: 'kek-g' },
      kernel: g.kernel, initrd: g.initrd, append: guestAppend('auto', pattern),
    });
    await bootAndWaitForPowerOff();
    expect(await readGuestDisk(GUEST_PATTERN_OFFSET, 32)).toContain(pattern);
    const raw = await readFile(join(data, 'datastores', 'local', 'guestvm', 'guestvm-disk0.luks'));
    expect(raw.includes(Buffer.from(pattern))).toBe(false);
    const log = await readFile(join(data, 'datastores', 'local', 'guestvm', 'guestvm.log'));
    expect(log.includes(Buffer.from('powered on'))).toBe(false);
    const { vmDek } = openVmx(await readVmx(vm.vmx), kek, vm.vmx);
    expect(decodeVmLog(log, vm.uuid, vmDek).join('\n')).toContain('powered on');
    vmDek.fill(0);
  });

  it('after an agent restart and a key push, boots again and reads the pattern back', async () => {
    await agent.proc.kill();
    agent = await startAgentProcess(data, 'esx-g');
    c = await pairedClient(agent, id);
    expect((await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).crypto.state).toBe('locked');
    await push();
    expect((await c.call<Vm>('GET', `/v1/vms/${vm.uuid}`)).crypto.state).toBe('unlocked');
    await bootAndWaitForPowerOff();
    expect(await readGuestDisk(GUEST_RESULT_OFFSET, 64)).toContain(`READBACK-OK:${pattern}`);
    const doc = await readVmx(vm.vmx);
    const { config, vmDek } = openVmx(doc, kek, vm.vmx);
    const deks = [vmDek, ...config.disks.flatMap((d) => d.layers.map((l) => unwrapDek(kek, l.wrappedDek ?? '', 'kek-g')))];
    expect(await scanForKeys(data, [agent.proc.child.pid ?? 0], [kek, hostKey, ...deks])).toEqual([]);
  });
});

it.runIf(skipReason !== undefined)('tiny guest can be built here (required under CI=true)', (ctx) => {
  // Outside CI a machine without apt access skips, saying why; in CI that would be a silent green.
  if (tinyGuestRequired()) expect.fail(`${skipReason ?? ''} (CI=true: the real-guest test must run)`);
  ctx.skip(skipReason);
});
