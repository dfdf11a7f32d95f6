import type { FileHandle } from 'node:fs/promises';
import { readAt, writeAt } from '../../fs/positional-io.js';
import { serializeHeader, type LuksHeader } from '../luks1/header.js';
import { MARKER_BYTES, encodeMarker, type Marker } from './marker.js';
import { RECORD_BYTES } from './marker-record.js';

/** The file's first 4 KiB (zero-filled past the end of a short file). */
export async function readFront(fh: FileHandle, at = 0): Promise<Buffer> {
  const buf = Buffer.alloc(MARKER_BYTES);
  await readAt(fh, buf, at);
  return buf;
}

/**
 * Puts the in-progress block at the front. Sectors 2–7 first (LUKS leaves them unused; a raw
 * front was saved in the staging area), synced; then sector 0, one atomic sector write: the file
 * stops being a LUKS disk at that instant, with the phdr copies already durable. Sector 1 is
 * left alone (it holds the end of the old phdr, keyslots 6–7): until sector 0 is written the old
 * header stays whole.
 */
export async function installMarker(fh: FileHandle, m: Marker): Promise<void> {
  const block = encodeMarker(m);
  await writeAt(fh, block.subarray(2 * RECORD_BYTES), 2 * RECORD_BYTES);
  await fh.sync();
  await writeAt(fh, block.subarray(0, RECORD_BYTES), 0);
  await fh.sync();
}

/**
 * The last step of an operation (or of its rollback): the real phdr goes to sectors 0–1 (the
 * file is a LUKS disk again from here), synced; then the rest of the block is zeroed, synced.
 * A torn write of sectors 0–1 leaves the marker, or the new sector 0 with the old sector 1
 * (keyslots 6–7 of the old phdr, or raw bytes that make the header corrupt); the phdr copies
 * in sectors 2–5 let a rerun write it again.
 */
export async function commitHeader(fh: FileHandle, h: LuksHeader): Promise<void> {
  const head = Buffer.alloc(2 * RECORD_BYTES);
  serializeHeader(h).copy(head, 0);
  await writeAt(fh, head, 0);
  await fh.sync();
  await writeAt(fh, Buffer.alloc(MARKER_BYTES - head.length), head.length);
  await fh.sync();
}

/** Zeroes [from, to) of the file except the ranges in `keep` (sorted, non-overlapping). */
export async function zeroExcept(fh: FileHandle, from: number, to: number, keep: ReadonlyArray<readonly [number, number]>): Promise<void> {
  let at = from;
  const z = Buffer.alloc(1 << 20);
  const zeroRange = async (a: number, b: number): Promise<void> => {
    for (let p = a; p < b; p += z.length) await writeAt(fh, z.subarray(0, Math.min(z.length, b - p)), p);
  };
  for (const [a, b] of keep) {
    if (a > at) await zeroRange(at, Math.min(a, to));
    at = Math.max(at, b);
  }
  if (at < to) await zeroRange(at, to);
}
