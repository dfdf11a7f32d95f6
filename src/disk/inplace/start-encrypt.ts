import { randomBytes } from 'node:crypto';
import { writeAt } from '../../fs/positional-io.js';
import { XtsCipher } from '../../crypto/xts.js';
import { zero } from '../../crypto/guards.js';
import { checkPayload } from './checks.js';
import { LUKS_MAGIC, MASTER_KEY_BYTES, SECTOR } from '../luks1/constants.js';
import { DiskError } from '../errors.js';
import { fillKeyslot, newHeader, passphraseFromDek } from '../luks1/keyslot.js';
import { encodeMarker, type Marker } from './marker.js';
import { installMarker, readFront } from './front.js';
import { FRONT, stagingEnd, stagingFront, stagingHeader } from './geometry.js';
import { Sidecar } from './sidecar.js';
import { ensureFreeSpace } from '../space.js';
import type { StartInput, Started } from './context.js';

/**
 * raw → LUKS1 in place, the start: new master key and header, written with the ciphertext of
 * the raw front into the staging area past the final end of the file, synced; then the
 * in-progress block replaces the raw front. Until then the raw file is untouched but for its
 * new tail, so a crash in between is undone by truncating.
 */
export async function startEncrypt(input: StartInput): Promise<Started> {
  const { fh, path, opId } = input;
  const dek = input.deks.b!;
  const size = (await fh.stat()).size;
  checkPayload(path, size);
  const mk = randomBytes(MASTER_KEY_BYTES);
  const passphrase = passphraseFromDek(dek);
  const front = await readFront(fh);
  if (front.subarray(0, LUKS_MAGIC.length).equals(LUKS_MAGIC)) {
    zero(mk, passphrase, front);
    // Most likely a finished encrypt run again: encrypting would nest LUKS in LUKS.
    throw new DiskError('DISK_BAD_INPUT', `${path} already is a LUKS disk; encrypting it in place again would nest LUKS inside LUKS`);
  }
  try {
    const h = newHeader(mk);
    const to = h.payloadOffset * SECTOR;
    const m: Marker = { op: 'encrypt', opId, size, from: 0, to, staging: to + size, headerArea: to, b: h };
    const material = fillKeyslot(h, 0, mk, passphrase, input.iterations);
    await ensureFreeSpace(path, stagingEnd(m) - size); // in place: only the growth, never a second copy
    const sc = await Sidecar.create(path, {
      opId, op: 'encrypt', abort: false, phase: 'prepare', origSize: size, size, from: 0, to, staging: m.staging, lo: FRONT, hi: size, progress: size,
    });
    await fh.truncate(stagingEnd(m));
    await writeAt(fh, encodeMarker(m), m.staging);
    await writeAt(fh, material, stagingHeader(m) + h.keyslots[0]!.keyMaterialOffset * SECTOR);
    const xts = new XtsCipher(mk);
    xts.encrypt(front, 0);
    xts.destroy();
    await writeAt(fh, front, stagingFront(m));
    await fh.sync();
    await sc.update({ phase: 'staged' });
    await installMarker(fh, m);
    await sc.update({ phase: 'data' });
    return { sc, m, keys: { b: mk } };
  } catch (err) {
    zero(mk);
    throw err;
  } finally {
    zero(passphrase, front);
  }
}
