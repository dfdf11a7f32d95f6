import { PHDR_BYTES } from '../luks1/constants.js';
import { parseHeader, serializeHeader, type LuksHeader } from '../luks1/header.js';
import { RECORD_BYTES, damaged, decodeRecord, encodeRecord, sha256, type MarkerRecord } from './marker-record.js';

/**
 * The in-progress block (4 KiB) that replaces the front of a disk while an in-place operation
 * runs. Sector 0: the record (marker-record.ts). Sectors 2–3 and 4–5: the source and destination
 * phdrs, each with its own checksum, so they survive a torn write of sectors 0–1 during the final
 * commit. No key bytes: a phdr holds salts, iteration counts and the master key digest, as any
 * LUKS header does; the master keys stay in keyslots, encrypted under the DEK passphrase.
 */
export const MARKER_BYTES = 4096;
const PHDR_AT = { a: 1024, b: 2048 } as const;

export interface Marker extends MarkerRecord {
  /** Source phdr (decrypt, rekey) and destination phdr (encrypt, rekey). */
  readonly a?: LuksHeader | undefined;
  readonly b?: LuksHeader | undefined;
}

export function encodeMarker(m: Marker): Buffer {
  const out = Buffer.alloc(MARKER_BYTES);
  encodeRecord(m, out.subarray(0, RECORD_BYTES));
  for (const which of ['a', 'b'] as const) {
    const h = m[which];
    if (h === undefined) continue;
    const p = serializeHeader(h);
    p.copy(out, PHDR_AT[which]);
    sha256(p).copy(out, PHDR_AT[which] + PHDR_BYTES);
  }
  return out;
}

/** A phdr copy at its place in `block` (the front or the staging copy), if present and intact. */
export function decodePhdrCopy(block: Buffer, which: 'a' | 'b'): LuksHeader | undefined {
  const at = PHDR_AT[which];
  const p = block.subarray(at, at + PHDR_BYTES);
  if (p.every((x) => x === 0)) return undefined;
  if (!sha256(p).equals(block.subarray(at + PHDR_BYTES, at + PHDR_BYTES + 32))) throw damaged(`phdr ${which} checksum`);
  // parseHeader's file size checks concern the final file, not this copy: give it a size it accepts.
  return parseHeader(Buffer.from(p), 1 << 30);
}

export function decodeMarker(block: Buffer): Marker {
  return { ...decodeRecord(block), a: decodePhdrCopy(block, 'a'), b: decodePhdrCopy(block, 'b') };
}
