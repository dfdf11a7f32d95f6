import { DiskError } from './errors.js';
import { abytes } from '../crypto/guards.js';
import { DEFAULT_KEYSLOT_ITERATIONS, MAX_ITERATIONS } from './luks1/constants.js';

export function checkIterations(iterations: number | undefined): number {
  const it = iterations ?? DEFAULT_KEYSLOT_ITERATIONS;
  if (!Number.isSafeInteger(it) || it < 1000 || it > MAX_ITERATIONS) {
    throw new DiskError('DISK_BAD_INPUT', `iterations must be an integer between 1000 and ${MAX_ITERATIONS}`);
  }
  return it;
}

export function checkDek(dek: Buffer, label: string): void {
  abytes(dek, 32, label);
}
