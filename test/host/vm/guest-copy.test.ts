import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { ensureTinyGuest, guestAppend, type TinyGuest } from '../../helpers/guest.js';
import { stopAll } from '../../helpers/process.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, tempDir } from '../harness.js';
import type { Vm } from './vm-ops-helpers.js';

// The tiny Linux guest boots from a deep-recrypted clone and from a VM restored (encrypted)
// from a backup export; each boot reads the pattern the original wrote and records
// READBACK-OK, which an export of that VM then shows in clear.
const guest = await ensureTinyGuest();
const skipReason = typeof guest === 'string' ? guest : undefined;

describe.skipIf(skipReason !== undefined)('host agent: a real guest boots from a clone and from a restore', () => {
  let dir: { path: string; remove(): Promise<void> };
  let c: HostClient;
  const keys = { k1: randomBytes(32), k2: randomBytes(32), hk: randomBytes(32) };
  const pattern = `VMCRYPT-${randomBytes(8).toString('hex')}`;

  async function boot(uuid: string): Promise<void> {
    await c.call('POST', `/v1/vms/${uuid}/power`, { action: 'on' });
    for (let i = 0; i < 900; i++) {
      if ((await c.call<Vm>('GET', `/v1/vms/${uuid}`)).powerState === 'poweredOff') return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('guest did not power off within 180 s');
  }

  /** The guest's disk in clear, through a backup export of the VM. */
  async function exported(uuid: string, name: string): Promise<Buffer> {
    const path = join(dir.path, `export-${name}`);
    await c.call('POST', `/v1/vms/${uuid}/export`, { path });
    const vmx = JSON.parse(await readFile(join(path, `${name}.vmx`), 'utf8')) as { config: { disks: Array<{ layers: Array<{ file: string }> }> } };
    return readFile(join(path, vmx.config.disks[0]?.layers[0]?.file ?? ''));
  }

  beforeAll(async () => {
    dir = await tempDir('vmcrypt-gcopy-');
    const agent = await startAgentProcess(join(dir.path, 'data'), 'esx-gc');
    c = await pairedClient(agent, await makeManagerIdentity());
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await c.call('POST', '/v1/keys', { keys: Object.entries(keys).map(([keyId, k]) => ({ keyId, key: k.toString('base64') })) });
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
  });
  afterAll(async () => {
    await stopAll();
    await dir?.remove();
  });

  it('boots the original, a deep clone and an encrypted restore of its export', async () => {
    const g = guest as TinyGuest;
    const orig = await c.call<Vm>('POST', '/v1/vms', {
      name: 'gorig', memoryMiB: 192, disks: [{ sizeBytes: 16 << 20 }], encryption: { providerId: 'kp', keyId: 'k1' },
      kernel: g.kernel, initrd: g.initrd, append: guestAppend('auto', pattern),
    });
    await boot(orig.uuid);
    const backup = await exported(orig.uuid, 'gorig');
    expect(backup.includes(Buffer.from(pattern))).toBe(true);
    expect(backup.includes(Buffer.from('READBACK-OK'))).toBe(false);

    const clone = await c.call<Vm>('POST', `/v1/vms/${orig.uuid}/clone`, { name: 'gclone', mode: 'deep', encryption: { providerId: 'kp', keyId: 'k2' } });
    await boot(clone.uuid);
    expect((await exported(clone.uuid, 'gclone')).includes(Buffer.from(`READBACK-OK:${pattern}`))).toBe(true);

    const restored = await c.call<Vm>('POST', '/v1/vms/restore', { from: join(dir.path, 'export-gorig'), name: 'grest', encryption: { providerId: 'kp', keyId: 'k2' } });
    expect(restored.encrypted).toBe(true);
    await boot(restored.uuid);
    expect((await exported(restored.uuid, 'grest')).includes(Buffer.from(`READBACK-OK:${pattern}`))).toBe(true);
  });
});
