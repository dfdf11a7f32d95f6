import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { CryptoMode } from '../host-store.js';
import { validateKeyId } from '../keys/key-cache.js';
import { createEncryptedDisk } from '../../disk/index.js';
import { createRawDisk } from '../qemu/disk-images.js';
import { NVRAM_BYTES, writeNvram } from '../vm-files/nvram.js';
import { LIMITS, type VmConfig, type VmDisk } from '../vm-files/vm-config.js';
import { generateDek, wrapDekFor } from '../vm-files/vm-crypto.js';
import { VmLog } from '../vm-files/vm-log.js';
import type { HostContext } from './vm-open.js';
import { encodeVmx, VM_NAME_RE, VMX_FORMAT, writeVmx, type KeySafe, type VmxDocument } from '../vm-files/vmx.js';
import { makePrivateDir } from '../../fs/private-files.js';

export interface CreateVmSpec {
  readonly name: string;
  readonly datastore: string;
  /** Encrypt with this KEK (must be in the key cache); absent = plain VM. */
  readonly encryption?: { readonly providerId: string; readonly keyId: string };
  readonly storagePolicy?: string;
  readonly memoryMiB: number;
  readonly disks: ReadonlyArray<{ readonly sizeBytes: number }>;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  readonly serialPorts?: number;
  readonly parallelPorts?: number;
}

/** Refusals shared by create and reconfigure: what an encrypted VM may not have (seeds 002). */
export function assertEncryptedAllows(cfg: { serialPorts?: number; parallelPorts?: number }): void {
  if ((cfg.serialPorts ?? 0) > 0 || (cfg.parallelPorts ?? 0) > 0) {
    throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'serial and parallel ports are not supported on encrypted VMs (they would carry guest data out in clear)');
  }
}

/**
 * Creates the VM directory DATASTORE/NAME with NAME.vmx, NAME.nvram, NAME.log and one disk
 * per spec entry (LUKS1 files with their own DEK for encrypted VMs, raw files otherwise).
 * On failure the half-made directory is removed; an existing directory is never touched.
 */
export async function createVm(ctx: HostContext, spec: CreateVmSpec): Promise<{ uuid: string; vmxPath: string }> {
  if (!VM_NAME_RE.test(spec.name)) throw new HostError('HOST_BAD_REQUEST', 'name must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}');
  const dsPath = ctx.store.state.datastores[spec.datastore];
  if (dsPath === undefined) throw new HostError('HOST_NOT_FOUND', `no datastore named ${spec.datastore}`);
  if (spec.disks.length > LIMITS.maxDisks) throw new HostError('HOST_BAD_REQUEST', `at most ${LIMITS.maxDisks} disks`);
  const enc = spec.encryption;
  if (enc !== undefined) {
    validateKeyId(enc.keyId);
    if (ctx.store.state.cryptoMode !== CryptoMode.SAFE) {
      throw new HostError('HOST_CRYPTO_MODE', `host is in crypto mode '${ctx.store.state.cryptoMode}': encrypted VMs need a crypto-safe host (enable it with a host key)`);
    }
    if (!ctx.cache.has(enc.keyId)) throw new HostError('HOST_KEY_MISSING', `key ${enc.keyId} is not in this host's key cache; push it first`);
    assertEncryptedAllows(spec);
  }
  const dir = join(dsPath, spec.name);
  if (await stat(dir).then(() => true, () => false)) throw new HostError('HOST_CONFLICT', `${dir} already exists`);
  await makePrivateDir(dir, { exclusive: true });
  const uuid = randomUUID();
  const vmxPath = join(dir, `${spec.name}.vmx`);
  const vmDek = enc === undefined ? undefined : generateDek();
  try {
    const disks: VmDisk[] = [];
    for (const [i, d] of spec.disks.entries()) {
      if (!Number.isInteger(d.sizeBytes) || d.sizeBytes < 1 << 20 || d.sizeBytes > LIMITS.maxDiskBytes || d.sizeBytes % 512 !== 0) {
        throw new HostError('HOST_BAD_REQUEST', `disk ${i}: sizeBytes must be a multiple of 512, at least 1 MiB`);
      }
      const id = `disk${i}`;
      if (enc === undefined) {
        const file = `${spec.name}-${id}.raw`;
        await createRawDisk(join(dir, file), d.sizeBytes);
        disks.push({ id, sizeBytes: d.sizeBytes, layers: [{ file, format: 'raw' }] });
      } else {
        const file = `${spec.name}-${id}.luks`;
        const dek = generateDek();
        try {
          await createEncryptedDisk({ path: join(dir, file), sizeBytes: d.sizeBytes, dek });
          const wrappedDek = ctx.cache.with(enc.keyId, (kek) => wrapDekFor(kek, dek, enc.keyId));
          disks.push({ id, sizeBytes: d.sizeBytes, layers: [{ file, format: 'luks', wrappedDek }] });
        } finally {
          dek.fill(0);
        }
      }
    }
    const config: VmConfig = {
      memoryMiB: spec.memoryMiB,
      disks,
      snapshots: [],
      nvram: `${spec.name}.nvram`,
      log: `${spec.name}.log`,
      serialPorts: spec.serialPorts ?? 0,
      parallelPorts: spec.parallelPorts ?? 0,
      ...(spec.kernel === undefined ? {} : { kernel: spec.kernel }),
      ...(spec.initrd === undefined ? {} : { initrd: spec.initrd }),
      ...(spec.append === undefined ? {} : { append: spec.append }),
    };
    const keySafe: KeySafe | undefined =
      enc === undefined || vmDek === undefined
        ? undefined
        : { providerId: enc.providerId, keyId: enc.keyId, wrappedDek: ctx.cache.with(enc.keyId, (kek) => wrapDekFor(kek, vmDek, enc.keyId)) };
    const clear: Omit<VmxDocument, 'encrypted' | 'config'> = {
      format: VMX_FORMAT,
      name: spec.name,
      uuid,
      createdAt: new Date().toISOString(),
      storagePolicy: spec.storagePolicy ?? (enc === undefined ? 'Datastore Default' : 'VM Encryption Policy'),
      ...(keySafe === undefined ? {} : { keySafe }),
    };
    const text = encodeVmx(clear, config, vmDek);
    const nvram = Buffer.alloc(NVRAM_BYTES);
    await writeNvram(join(dir, config.nvram), uuid, nvram, vmDek);
    const log = await VmLog.open(join(dir, config.log), uuid, vmDek);
    await log.append(`created VM ${spec.name} (${enc === undefined ? 'not encrypted' : `encrypted, key ${enc.keyId}`}) on host ${ctx.store.state.name}`);
    await log.close();
    await writeVmx(vmxPath, text);
    return { uuid, vmxPath };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    vmDek?.fill(0);
  }
}
