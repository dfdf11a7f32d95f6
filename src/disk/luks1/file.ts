import type { FileHandle } from 'node:fs/promises';
import { DiskError } from '../errors.js';
import { readAt, writeAt } from '../../fs/positional-io.js';
import { zero } from '../../crypto/guards.js';
import { PHDR_BYTES, SECTOR } from './constants.js';
import { keyMaterialSectors, parseHeader, serializeHeader, type LuksHeader } from './header.js';
import { passphraseFromDek, tryKeyslot } from './keyslot.js';

export async function readHeader(fh: FileHandle): Promise<{ header: LuksHeader; fileSize: number }> {
  const fileSize = (await fh.stat()).size;
  const buf = Buffer.alloc(PHDR_BYTES);
  const n = await readAt(fh, buf, 0);
  return { header: parseHeader(buf.subarray(0, n), fileSize), fileSize };
}

/** Writes the phdr and, for each given slot index, its encrypted key material. */
export async function writeHeader(fh: FileHandle, h: LuksHeader, materials: ReadonlyMap<number, Buffer>): Promise<void> {
  for (const [index, material] of materials) {
    await writeAt(fh, material, (h.keyslots[index]?.keyMaterialOffset ?? 0) * SECTOR);
  }
  await writeAt(fh, serializeHeader(h), 0);
}

/**
 * Opens a LUKS1 disk with a DEK (passphrase = its hex). Returns the master key (caller zeroes it)
 * and the slot that opened. WRONG_KEY when no active keyslot accepts it. `materialBase`: where the
 * header area starts in the file (an in-place operation keeps a copy in its staging area).
 */
export async function unlock(fh: FileHandle, h: LuksHeader, dek: Buffer, materialBase = 0): Promise<{ mk: Buffer; slot: number }> {
  const passphrase = passphraseFromDek(dek);
  try {
    for (let i = 0; i < h.keyslots.length; i++) {
      const ks = h.keyslots[i]!;
      if (!ks.active) continue;
      const material = Buffer.alloc(keyMaterialSectors(h.keyBytes, ks.stripes) * SECTOR);
      await readAt(fh, material, materialBase + ks.keyMaterialOffset * SECTOR);
      const mk = await tryKeyslot(h, ks, material, passphrase);
      if (mk !== undefined) return { mk, slot: i };
    }
  } finally {
    zero(passphrase);
  }
  throw new DiskError(
    'WRONG_KEY',
    'wrong key: no keyslot of this disk opens with it (or the keyslot area is damaged — LUKS1 cannot tell the two apart)',
  );
}
