import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { writeAt } from '../../fs/positional-io.js';
import { zero } from '../../crypto/guards.js';
import { DiskError } from '../errors.js';
import { AF_STRIPES, MASTER_KEY_BYTES, SECTOR } from '../luks1/constants.js';
import { keyMaterialSectors, type LuksHeader } from '../luks1/header.js';
import { fillKeyslot, newHeader, passphraseFromDek } from '../luks1/keyslot.js';
import { readHeader, unlock } from '../luks1/file.js';
import type { Marker } from './marker.js';
import { installMarker } from './front.js';
import { Sidecar } from './sidecar.js';
import { ensureFreeSpace } from '../space.js';
import { checkPayload } from './checks.js';
import type { StartInput, Started } from './context.js';

/** Payload offsets a deep rekey alternates between; QEMU 7.2 and cryptsetup open both. */
export const SMALL_OFFSET = 4096;
export const LARGE_OFFSET = 8192;

/** The other offset, chosen so the shift is at least 1.5 MiB (any offset QEMU wrote, e.g. 4040, works). */
export function nextOffset(current: number): number {
  return current <= 6144 ? LARGE_OFFSET : SMALL_OFFSET;
}

const range = (off: number, keyBytes: number): [number, number] => [off, off + keyMaterialSectors(keyBytes, AF_STRIPES)];
const overlaps = (x: [number, number], y: [number, number]): boolean => x[0] < y[1] && y[0] < x[1];

/** A keyslot of the new header whose area overlaps no enabled keyslot of the old one (both live side by side). */
function freeSlot(old: LuksHeader, fresh: LuksHeader): number {
  const used = old.keyslots.filter((k) => k.active).map((k) => range(k.keyMaterialOffset, old.keyBytes));
  const j = fresh.keyslots.findIndex((k) => !used.some((u) => overlaps(u, range(k.keyMaterialOffset, fresh.keyBytes))));
  if (j === -1) throw new DiskError('DISK_NO_KEYSLOT', 'no keyslot area is free for the new key beside the old ones (an in-place deep rekey keeps both until the end)');
  return j;
}

/** A rekey to the larger offset needs the file longer by the shift before the walk. */
export async function growForRekey(fh: FileHandle, g: { to: number; from: number; size: number }): Promise<void> {
  if (g.to > g.from && (await fh.stat()).size < g.to + g.size) {
    await fh.truncate(g.to + g.size);
    await fh.sync();
  }
}

/**
 * Deep rekey in place, the start: new master key, its keyslot written into a keyslot area the
 * old header does not use (both master keys stay recoverable until the end), the file extended
 * after the in-progress block replaced the phdr when the payload moves up.
 */
export async function startRekey(input: StartInput): Promise<Started> {
  const { fh, path, opId } = input;
  const { header: a, fileSize } = await readHeader(fh);
  const { mk: mkA } = await unlock(fh, a, input.deks.a!);
  const mkB = randomBytes(MASTER_KEY_BYTES);
  const passphrase = passphraseFromDek(input.deks.b!);
  try {
    const from = a.payloadOffset * SECTOR;
    const size = fileSize - from;
    checkPayload(path, size);
    const b = newHeader(mkB);
    b.payloadOffset = nextOffset(a.payloadOffset);
    const to = b.payloadOffset * SECTOR;
    const limit = Math.min(a.payloadOffset, b.payloadOffset);
    const oldEnd = Math.max(...a.keyslots.filter((k) => k.active).map((k) => range(k.keyMaterialOffset, a.keyBytes)[1]));
    if (oldEnd > limit) throw new DiskError('DISK_UNSUPPORTED', `keyslot material ends at sector ${oldEnd}, inside the payload an in-place rekey moves`);
    const j = freeSlot(a, b);
    const material = fillKeyslot(b, j, mkB, passphrase, input.iterations);
    const m: Marker = { op: 'rekey', opId, size, from, to, staging: 0, headerArea: 0, a, b };
    await ensureFreeSpace(path, Math.max(0, to - from)); // in place: only the growth, never a second copy
    const sc = await Sidecar.create(path, {
      opId, op: 'rekey', abort: false, phase: 'prepare', origSize: fileSize, size, from, to, staging: 0,
      lo: 0, hi: size, progress: to > from ? size : 0,
    });
    await writeAt(fh, material, b.keyslots[j]!.keyMaterialOffset * SECTOR);
    await fh.sync();
    // The marker before the file grows: no opener may see the longer file as LUKS.
    await installMarker(fh, m);
    await growForRekey(fh, { to, from, size });
    await sc.update({ phase: 'data' });
    return { sc, m, keys: { a: mkA, b: mkB } };
  } catch (err) {
    zero(mkA, mkB);
    throw err;
  } finally {
    zero(passphrase);
  }
}
