import { readFile } from 'node:fs/promises';
import { writeAtomically } from '../../fs/atomic-file.js';
import { HostError } from '../errors.js';
import { SealPurpose } from '../../crypto/seal-purpose.js';
import { openWith, sealWith } from './vm-crypto.js';

/** Size of the (firmware variable store) NVRAM image. */
export const NVRAM_BYTES = 128 * 1024;
const MAX_NVRAM_FILE = NVRAM_BYTES + 4096;

const nvramContext = (uuid: string) => ({ purpose: SealPurpose.NVRAM, binding: [uuid] }) as const;
/** What pre-2.0 versions bound NVRAM to (still opened). */
const legacyAad = (uuid: string): string => `${uuid}:nvram`;

/** Writes `NAME.nvram` durably (temp, fsync, rename, dir fsync): sealed under the VM DEK (purpose "nvram", bound to the uuid) or plain. */
export async function writeNvram(path: string, uuid: string, data: Buffer, vmDek: Buffer | undefined): Promise<void> {
  const out = vmDek === undefined ? data : sealWith(vmDek, data, nvramContext(uuid));
  await writeAtomically(path, async (fh) => {
    await fh.writeFile(out);
  });
}

/** Reads and (for encrypted VMs) authenticates `NAME.nvram`; the caller zeroes the result. */
export async function readNvram(path: string, uuid: string, vmDek: Buffer | undefined): Promise<Buffer> {
  const raw = await readFile(path).catch(() => {
    throw new HostError('HOST_VMX_INVALID', `${path}: NVRAM file missing`);
  });
  if (raw.length > MAX_NVRAM_FILE) throw new HostError('HOST_VMX_INVALID', `${path}: NVRAM file too large`);
  return vmDek === undefined ? raw : openWith(vmDek, raw, nvramContext(uuid), legacyAad(uuid), path);
}
