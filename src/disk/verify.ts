import { zero } from '../crypto/guards.js';
import { checkDek } from './options.js';
import { openSource } from './preflight.js';
import { readHeader, unlock } from './luks1/file.js';

/**
 * Checks that `dek` opens the LUKS1 disk at `path` (as QEMU would) without reading the payload;
 * resolves to the keyslot that opened. WRONG_KEY / DISK_* errors otherwise. Read-only.
 */
export async function checkDiskKey(path: string, dek: Buffer): Promise<{ slot: number }> {
  checkDek(dek, 'dek');
  const fh = await openSource(path);
  try {
    const { header } = await readHeader(fh);
    const { mk, slot } = await unlock(fh, header, dek);
    zero(mk);
    return { slot };
  } finally {
    await fh.close();
  }
}
