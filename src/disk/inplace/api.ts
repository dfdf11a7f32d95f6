import { constantTimeEqual } from '../../crypto/guards.js';
import { DiskError } from '../errors.js';
import { checkDek, checkIterations } from '../options.js';
import type { DecryptInPlaceOptions, EncryptInPlaceOptions, InPlaceOptions, InPlaceResult, RekeyInPlaceOptions } from '../types.js';
import { runInPlace } from './driver.js';

const common = (o: InPlaceOptions) => ({
  path: o.path, abort: o.abort === true, iterations: checkIterations(o.iterations), onProgress: o.onProgress, onNotice: o.onNotice,
});

/** raw → LUKS1 in the same file (payload offset 2 MiB); no second copy, resumable, --abort rolls back. */
export function encryptDiskInPlace(opts: EncryptInPlaceOptions): Promise<InPlaceResult> {
  checkDek(opts.dek, 'dek');
  return runInPlace({ ...common(opts), op: 'encrypt', deks: { b: opts.dek } });
}

/** LUKS1 → raw in the same file; no second copy, resumable, --abort rolls back. */
export function decryptDiskInPlace(opts: DecryptInPlaceOptions): Promise<InPlaceResult> {
  checkDek(opts.dek, 'dek');
  return runInPlace({ ...common(opts), op: 'decrypt', deks: { a: opts.dek } });
}

/** Deep rekey in the same file: new master key, payload offset alternating 4096 ↔ 8192 sectors. */
export function rekeyDiskInPlace(opts: RekeyInPlaceOptions): Promise<InPlaceResult> {
  checkDek(opts.oldDek, 'old key');
  checkDek(opts.newDek, 'new key');
  if (constantTimeEqual(opts.oldDek, opts.newDek)) throw new DiskError('DISK_BAD_INPUT', 'the new key is the same as the old key');
  return runInPlace({ ...common(opts), op: 'rekey', deks: { a: opts.oldDek, b: opts.newDek } });
}
