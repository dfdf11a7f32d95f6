import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HostClient } from '../../../src/host/client/host-client.js';
import { FIRMWARE_PREFIX } from '../../../src/host/vm/firmware-log.js';
import { decodeVmLog } from '../../../src/host/vm-files/vm-log.js';
import { openVmx, readVmx } from '../../../src/host/vm-files/vmx.js';
import { waitFor } from '../../helpers/wait.js';
import { makeManagerIdentity, pairedClient, startAgentProcess, type AgentProcess } from '../harness.js';

/**
 * Guest RAM region the tests fill with random bytes. The firmware writes into it while it
 * starts (SeaBIOS runs its init code from just below 48 MiB with 64 MiB of RAM), so fillRam
 * waits until the firmware has given up booting (FIRMWARE_SETTLED in the VM log) first.
 */
export const RAM_OFFSET = 16 << 20;
export const RAM_LENGTH = 32 << 20;
/**
 * SeaBIOS's last line with no boot device; it then only waits for interrupts (timer ticks in the
 * BIOS data area, below 1 MiB) and never reboots (QEMU -boot reboot-timeout=-1).
 */
export const FIRMWARE_SETTLED = 'No bootable device.';

export interface TestHost {
  readonly agent: AgentProcess;
  readonly c: HostClient;
  readonly ramDir: string;
  readonly dataDir: string;
}

export interface TwoHosts {
  readonly a: TestHost;
  readonly b: TestHost;
  readonly shared: string;
  readonly keys: Record<string, Buffer>;
  remove(): Promise<void>;
}

/**
 * Two real agents (--allow-crash, guest RAM in /dev/shm files) on one shared datastore, both
 * crypto-safe with the same KEK pushed (the manager pushes the VM's KEKs to the destination).
 */
export async function startTwoHosts(root: string, extra: { b?: string[] } = {}): Promise<TwoHosts> {
  const shm = await mkdtemp('/dev/shm/vmcrypt-mig-');
  const shared = join(root, 'shared');
  await mkdir(shared, { recursive: true });
  const keys = { kek: randomBytes(32), hk: randomBytes(32) };
  const id = await makeManagerIdentity();
  const start = async (name: string, flags: string[]): Promise<TestHost> => {
    const ramDir = join(shm, name);
    await mkdir(ramDir);
    process.env['VMCRYPT_TEST_RAM_DIR'] = ramDir;
    const dataDir = join(root, name);
    const agent = await startAgentProcess(dataDir, name, ['--allow-crash', ...flags]);
    delete process.env['VMCRYPT_TEST_RAM_DIR'];
    const c = await pairedClient(agent, id);
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
    await c.call('POST', '/v1/keys', { keys: Object.entries(keys).map(([keyId, k]) => ({ keyId, key: k.toString('base64') })) });
    await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
    await c.call('POST', '/v1/datastores', { name: 'shared', path: shared });
    return { agent, c, ramDir, dataDir };
  };
  const a = await start('esx-a', []);
  const b = await start('esx-b', extra.b ?? []);
  return { a, b, shared, keys, remove: () => rm(shm, { recursive: true, force: true }) };
}

/**
 * The lines of the VM's log since its last power-off (an encrypted VM's log is decoded with its
 * KEK `kek`).
 */
async function vmLogSincePowerOn(host: TestHost, uuid: string, kek: Buffer | undefined): Promise<string[]> {
  const { vmx } = await host.c.call<{ vmx: string }>('GET', `/v1/vms/${uuid}`);
  const doc = await readVmx(vmx);
  let lines: string[];
  if (doc.keySafe === undefined) {
    if (doc.config === undefined) throw new Error(`${vmx} has no config`);
    lines = (await readFile(join(dirname(vmx), doc.config.log), 'utf8')).split('\n');
  } else {
    if (kek === undefined) throw new Error(`VM ${uuid} is encrypted: its KEK is needed to read its log`);
    const { config, vmDek } = openVmx(doc, kek, vmx);
    try {
      lines = decodeVmLog(await readFile(join(dirname(vmx), config.log)), uuid, vmDek);
    } finally {
      vmDek.fill(0);
    }
  }
  return lines.slice(lines.findLastIndex((l) => l.includes(' powered off (')) + 1);
}

/** Resolves once the firmware of the running VM has given up booting (it no longer writes guest RAM). */
export async function firmwareSettled(host: TestHost, uuid: string, kek?: Buffer): Promise<void> {
  await waitFor(`firmware of VM ${uuid} settled ("${FIRMWARE_SETTLED}" in its log)`, async () =>
    (await vmLogSincePowerOn(host, uuid, kek)).some((l) => l.includes(FIRMWARE_PREFIX + FIRMWARE_SETTLED)), 60_000);
}

/**
 * Writes random bytes into the guest RAM region of a running VM (through its RAM file), once
 * its firmware has settled; `kek` for an encrypted VM (to read its log).
 */
export async function fillRam(host: TestHost, uuid: string, kek?: Buffer): Promise<Buffer> {
  await firmwareSettled(host, uuid, kek);
  const pattern = randomBytes(RAM_LENGTH);
  const fh = await open(join(host.ramDir, `${uuid}.ram`), 'r+');
  try {
    await fh.write(pattern, 0, pattern.length, RAM_OFFSET);
  } finally {
    await fh.close();
  }
  return pattern;
}

export async function readRam(host: TestHost, uuid: string): Promise<Buffer> {
  const fh = await open(join(host.ramDir, `${uuid}.ram`), 'r');
  try {
    const b = Buffer.alloc(RAM_LENGTH);
    await fh.read(b, 0, RAM_LENGTH, RAM_OFFSET);
    return b;
  } finally {
    await fh.close();
  }
}

/** '' when equal; else how many 4 KiB pages differ, the first offsets and whether they are zero (a failure says what it saw). */
export function ramDiff(got: Buffer, want: Buffer): string {
  const offs: number[] = [];
  for (let i = 0; i < Math.max(got.length, want.length); i += 4096) if (!got.subarray(i, i + 4096).equals(want.subarray(i, i + 4096))) offs.push(i);
  if (offs.length === 0) return '';
  const zero = offs.slice(0, 4).map((o) => got.subarray(o, o + 4096).equals(Buffer.alloc(4096)));
  return `${offs.length} pages differ, first at RAM offsets ${offs.slice(0, 4).map((o) => o + RAM_OFFSET).join(', ')} (all-zero: ${zero.join(', ')})`;
}

export async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export interface Migration {
  readonly migrationId: string;
  readonly key: Buffer;
  readonly nonce: Buffer;
}

export function newMigration(): Migration {
  return { migrationId: randomUUID(), key: randomBytes(32), nonce: randomBytes(8) };
}

/** Destination first, then the source (as the manager does); `via` rewrites the endpoint (a proxy). */
export async function migrate(
  from: TestHost, to: TestHost, uuid: string, vmxPath: string, channel: 'tunnel' | 'qemu-psk' | 'plain',
  m: Migration = newMigration(), via?: (e: { host: string; port: number }) => Promise<{ host: string; port: number }>,
): Promise<Record<string, unknown>> {
  const keyPart = channel === 'plain' ? {} : { key: m.key, nonce: m.nonce };
  const inc = await to.c.migrationIncoming({ migrationId: m.migrationId, vmId: uuid, vmxPath, channel, ...keyPart });
  const endpoint = via === undefined ? inc.endpoint : await via(inc.endpoint);
  return { ...(await from.c.migrateVm(uuid, { migrationId: m.migrationId, endpoint, channel, ...keyPart })) };
}

export interface RunningVm {
  readonly vm: { uuid: string; vmx: string; powerState: string };
  /** The random bytes written into its guest RAM region. */
  readonly ram: Buffer;
  /** Its disk file on the shared datastore, and that file's sha256 once written and flushed. */
  readonly diskPath: string;
  readonly diskSum: string;
}

/**
 * An encrypted VM (KEK `kek`) created on host A on the shared datastore, powered on, `written` (a
 * qemu-io length such as 256k) bytes of `pattern` written to its disk and flushed, its RAM region
 * filled with random bytes.
 */
export async function runningEncryptedVm(h: TwoHosts, name: string, diskBytes: number, pattern: number, written: string): Promise<RunningVm> {
  const vm = await h.a.c.call<RunningVm['vm']>('POST', '/v1/vms', { name, datastore: 'shared', memoryMiB: 64, disks: [{ sizeBytes: diskBytes }], encryption: { providerId: 'kp', keyId: 'kek' } });
  await h.a.c.call('POST', `/v1/vms/${vm.uuid}/power`, { action: 'on' });
  await h.a.c.call('POST', `/v1/vms/${vm.uuid}/qemu-io`, { disk: 0, command: `write -P 0x${pattern.toString(16)} 0 ${written}` });
  await h.a.c.call('POST', `/v1/vms/${vm.uuid}/qemu-io`, { disk: 0, command: 'flush' });
  const ram = await fillRam(h.a, vm.uuid, h.keys['kek']);
  const diskPath = join(h.shared, name, `${name}-disk0.luks`);
  return { vm, ram, diskPath, diskSum: await sha256(diskPath) };
}
