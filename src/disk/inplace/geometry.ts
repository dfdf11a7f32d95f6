import type { Marker } from './marker.js';
import type { MarkerRecord } from './marker-record.js';
import type { Walk } from './shift.js';
import { isBackward, walkStart } from './shift.js';
import { MARKER_BYTES } from './marker.js';

/**
 * Where things are during an in-place operation (byte offsets in the one file).
 * encrypt  raw S bytes → LUKS payload at `to` (2 MiB): walk end → front, shift up.
 * decrypt  LUKS payload at `from` → raw at 0: walk front → end, shift down, truncate.
 * rekey    payload at `from` → `to` (4096 ↔ 8192 sectors), re-encrypted under the new master key.
 * The first 4 KiB of the payload (encrypt, decrypt) are not walked: the in-progress block sits
 * there; they are saved in the staging area at the start and put in place at the end.
 * Staging area (encrypt, decrypt), appended after the largest extent of the file:
 *   [0, 4 KiB) copy of the in-progress block · [4 KiB, +headerArea) header image · 4 KiB front.
 */
export const FRONT = MARKER_BYTES;

export const stagingHeader = (m: Pick<MarkerRecord, 'staging'>): number => m.staging + MARKER_BYTES;
export const stagingFront = (m: Pick<MarkerRecord, 'staging' | 'headerArea'>): number => m.staging + MARKER_BYTES + m.headerArea;
export const stagingEnd = (m: Pick<MarkerRecord, 'staging' | 'headerArea'>): number => stagingFront(m) + FRONT;
/** Where keyslot material of the marker's phdrs is read: the staging header image, or the file's own header area. */
export const materialBase = (m: Pick<MarkerRecord, 'staging'>): number => (m.staging === 0 ? 0 : stagingHeader(m));

/** The data walk of an operation (keys: source = phdr a's master key, destination = phdr b's). */
export function forwardWalk(m: Pick<Marker, 'op' | 'from' | 'to' | 'size'>): Walk {
  const op = m.op === 'encrypt' ? 'encrypt' : m.op === 'decrypt' ? 'decrypt' : 'reencrypt';
  return { op, srcBase: m.from, dstBase: m.to, lo: m.op === 'rekey' ? 0 : FRONT, hi: m.size };
}

/** The walk that rolls back what `w` did up to `boundary` (keys swap roles). */
export function reverseWalk(w: Walk, boundary: number): Walk {
  const [lo, hi] = isBackward(w) ? [boundary, w.hi] : [w.lo, boundary];
  const op = w.op === 'encrypt' ? 'decrypt' : w.op === 'decrypt' ? 'encrypt' : 'reencrypt';
  return { op, srcBase: w.dstBase, dstBase: w.srcBase, lo, hi };
}

export { isBackward, walkStart };
