import type { FileHandle } from 'node:fs/promises';
import { readAt, writeAt } from '../../fs/positional-io.js';
import { DiskError } from '../errors.js';
import { AF_STRIPES, SECTOR } from '../luks1/constants.js';
import { keyMaterialSectors, parseHeader, type LuksHeader } from '../luks1/header.js';
import { decodePhdrCopy } from './marker.js';
import { isMarker } from './marker-record.js';
import { commitHeader, readFront, zeroExcept } from './front.js';
import { FRONT, stagingEnd, stagingFront, stagingHeader } from './geometry.js';
import type { Progress } from './sidecar.js';

/**
 * The phdr to commit, read from the front: the marker's copy, or (after a commit torn or
 * finished before the sidecar went) the copy that survived in sectors 2–5. Undefined when the
 * front already is the committed header with the copies zeroed: nothing left to do.
 */
export async function phdrToCommit(fh: FileHandle, which: 'a' | 'b'): Promise<LuksHeader | undefined> {
  const front = await readFront(fh);
  const copy = decodePhdrCopy(front, which);
  if (copy !== undefined) return copy;
  if (!isMarker(front)) {
    try {
      parseHeader(front.subarray(0, 592), 1 << 30);
      return undefined;
    } catch {
      // neither the marker nor a header: fall through
    }
  }
  throw new DiskError('DISK_IN_PLACE_STATE', `the ${which === 'a' ? 'original' : 'new'} LUKS header cannot be found at the front of the disk`);
}

async function copy(fh: FileHandle, from: number, to: number, length: number): Promise<void> {
  const buf = Buffer.alloc(length);
  await readAt(fh, buf, from);
  await writeAt(fh, buf, to);
}

/**
 * After the data walk: put the front and the header area in place, cut the file to its final
 * size, then commit the header. Each step checks what is already done, so a rerun after a
 * crash anywhere in here repeats only what is missing.
 */
export async function finalize(fh: FileHandle, s: Progress): Promise<void> {
  const size = (await fh.stat()).size;
  const geo = { staging: s.staging, headerArea: s.from || s.to };
  if (s.op === 'decrypt') {
    if (size > s.size) {
      await copy(fh, stagingFront(geo), 0, FRONT); // the marker goes: from here the file is raw
      await fh.sync();
      await fh.truncate(s.size);
      await fh.sync();
    }
    return;
  }
  const b = await phdrToCommit(fh, 'b');
  if (b === undefined) return;
  if (s.op === 'encrypt') {
    if (size > s.to + s.size) {
      await copy(fh, stagingHeader(geo) + FRONT, FRONT, s.to - FRONT);
      await copy(fh, stagingFront(geo), s.to, FRONT);
      await fh.sync();
    }
  } else {
    const slot = b.keyslots.find((k) => k.active)!;
    const keep: [number, number] = [slot.keyMaterialOffset * SECTOR, (slot.keyMaterialOffset + keyMaterialSectors(b.keyBytes, AF_STRIPES)) * SECTOR];
    // Old keyslots (the old master key) and what the walk left before the new payload: zeros.
    await zeroExcept(fh, FRONT, s.to, [keep]);
    await fh.sync();
  }
  if (size !== s.to + s.size) {
    await fh.truncate(s.to + s.size);
    await fh.sync();
  }
  await commitHeader(fh, b);
}

export { stagingEnd };
