import { access } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { readAt } from '../../fs/positional-io.js';
import { RECORD_BYTES, isMarker, markerOp } from './marker-record.js';
import { sidecarPathFor } from './sidecar.js';
import { unfinishedInPlace } from './messages.js';

/**
 * Copy-mode operations and shallow rekeys refuse a disk an in-place operation has not finished:
 * its front may still look raw or LUKS while its tail holds the staging area.
 */
export async function refuseUnfinished(path: string, fh: FileHandle): Promise<void> {
  const rec = Buffer.alloc(RECORD_BYTES);
  await readAt(fh, rec, 0);
  if (isMarker(rec)) throw unfinishedInPlace(markerOp(rec));
  try {
    await access(sidecarPathFor(path));
  } catch {
    return;
  }
  throw unfinishedInPlace(undefined);
}
