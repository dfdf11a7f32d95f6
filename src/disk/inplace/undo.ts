import type { FileHandle } from 'node:fs/promises';
import { readAt, writeAt } from '../../fs/positional-io.js';
import { XtsCipher } from '../../crypto/xts.js';
import { zero } from '../../crypto/guards.js';
import { AF_STRIPES, SECTOR } from '../luks1/constants.js';
import { keyMaterialSectors } from '../luks1/header.js';
import { commitHeader, readFront, zeroExcept } from './front.js';
import { phdrToCommit } from './finish.js';
import { FRONT, stagingFront, stagingHeader } from './geometry.js';
import { decodePhdrCopy } from './marker.js';
import type { MasterKeys } from './context.js';
import type { Progress } from './sidecar.js';

/**
 * The end of an --abort, once the data walk has been rolled back (or never started): the
 * front and the header go back, the file goes back to its old size. Every step checks what is
 * already done, so it can be rerun. `keys()` unlocks the master key from the staging area when
 * the front must be re-encrypted.
 */
export async function undo(fh: FileHandle, s: Progress, keys: () => Promise<MasterKeys>): Promise<void> {
  const size = (await fh.stat()).size;
  const geo = { staging: s.staging, headerArea: s.from || s.to };
  if (s.op === 'encrypt') {
    if (size > s.origSize) {
      const front = Buffer.alloc(FRONT);
      await readAt(fh, front, stagingFront(geo));
      const mk = (await keys()).b!;
      const xts = new XtsCipher(mk);
      xts.decrypt(front, 0);
      xts.destroy();
      await writeAt(fh, front, 0); // the raw front is back: the file is the raw disk again
      zero(front);
      await fh.sync();
      await fh.truncate(s.origSize);
      await fh.sync();
    }
    return;
  }
  const a = await phdrToCommit(fh, 'a');
  if (a === undefined) {
    // The front holds the original header (never replaced, or already committed back): only the tail may be left.
    if (size > s.origSize) {
      await fh.truncate(s.origSize);
      await fh.sync();
    }
    return;
  }
  if (s.op === 'decrypt') {
    if (size > s.origSize) {
      const front = Buffer.alloc(FRONT);
      await readAt(fh, front, stagingFront(geo));
      const mk = (await keys()).a!;
      const xts = new XtsCipher(mk);
      xts.encrypt(front, 0); // XTS is deterministic: the very ciphertext that was there
      xts.destroy();
      await writeAt(fh, front, s.from);
      zero(front);
      const image = Buffer.alloc(s.from - FRONT);
      await readAt(fh, image, stagingHeader(geo) + FRONT);
      await writeAt(fh, image, FRONT);
      await fh.sync();
    }
  } else {
    // The new keyslot goes (its master key must not outlive the abort).
    const b = decodePhdrCopy(await readFront(fh), 'b');
    const slot = b?.keyslots.find((k) => k.active);
    if (slot !== undefined && b !== undefined) {
      const at = slot.keyMaterialOffset * SECTOR;
      await zeroExcept(fh, at, at + keyMaterialSectors(b.keyBytes, AF_STRIPES) * SECTOR, []);
      await fh.sync();
    }
  }
  if (size !== s.origSize) {
    await fh.truncate(s.origSize);
    await fh.sync();
  }
  await commitHeader(fh, a);
}
