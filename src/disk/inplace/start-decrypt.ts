import { readAt, writeAt } from '../../fs/positional-io.js';
import { XtsCipher } from '../../crypto/xts.js';
import { zero } from '../../crypto/guards.js';
import { SECTOR } from '../luks1/constants.js';
import { readHeader, unlock } from '../luks1/file.js';
import { encodeMarker, type Marker } from './marker.js';
import { installMarker } from './front.js';
import { FRONT, stagingEnd, stagingFront, stagingHeader } from './geometry.js';
import { Sidecar } from './sidecar.js';
import { ensureFreeSpace } from '../space.js';
import { checkPayload } from './checks.js';
import type { StartInput, Started } from './context.js';

/**
 * LUKS1 → raw in place, the start: the whole header area (every keyslot) and the plaintext of
 * the first 4 KiB of the payload are copied to the staging area past the end, synced. The
 * in-progress block replaces the phdr before the file grows, so no opener sees the longer file
 * as LUKS; a crash before the staging area is durable is undone by truncating and putting the
 * phdr back (its copy is in the block).
 */
export async function startDecrypt(input: StartInput): Promise<Started> {
  const { fh, path, opId } = input;
  const { header: a, fileSize } = await readHeader(fh);
  const { mk } = await unlock(fh, a, input.deks.a!);
  const from = a.payloadOffset * SECTOR;
  const size = fileSize - from;
  const image = Buffer.alloc(from);
  const front = Buffer.alloc(FRONT);
  try {
    checkPayload(path, size);
    const m: Marker = { op: 'decrypt', opId, size, from, to: 0, staging: fileSize, headerArea: from, a };
    await ensureFreeSpace(path, stagingEnd(m) - fileSize); // in place: only the growth, never a second copy
    const sc = await Sidecar.create(path, {
      opId: m.opId, op: 'decrypt', abort: false, phase: 'prepare', origSize: fileSize, size, from, to: 0, staging: m.staging,
      lo: FRONT, hi: size, progress: FRONT,
    });
    await readAt(fh, image, 0);
    await readAt(fh, front, from);
    // The marker first: from here on, no tool opens the file as LUKS while its tail grows.
    await installMarker(fh, m);
    const xts = new XtsCipher(mk);
    xts.decrypt(front, 0);
    xts.destroy();
    await fh.truncate(stagingEnd(m));
    await writeAt(fh, encodeMarker(m), m.staging);
    await writeAt(fh, image, stagingHeader(m));
    await writeAt(fh, front, stagingFront(m));
    await fh.sync();
    await sc.update({ phase: 'staged' });
    await sc.update({ phase: 'data' });
    return { sc, m, keys: { a: mk } };
  } catch (err) {
    zero(mk);
    throw err;
  } finally {
    zero(front);
  }
}
