import { DiskError } from '../errors.js';
import type { InPlaceOp } from './marker-record.js';

/** The command that finishes (or, with --abort, rolls back) an interrupted in-place operation. */
export function rerunCommand(op: InPlaceOp | undefined): string {
  switch (op) {
    case 'encrypt':
      return 'vmcrypt disk encrypt FILE --in-place --key-file K';
    case 'decrypt':
      return 'vmcrypt disk decrypt FILE --in-place --key-file K';
    case 'rekey':
      return 'vmcrypt disk rekey FILE --key-file OLD --new-key-file NEW --deep --in-place';
    default:
      return 'the same vmcrypt disk … --in-place command';
  }
}

/** What every opener says about a half-done disk: it is not a disk yet, and how to make it one. */
export function unfinishedInPlace(op: InPlaceOp | undefined): DiskError {
  return new DiskError(
    'DISK_IN_PLACE_UNFINISHED',
    `an in-place ${op ?? 'operation'} of this disk was interrupted and the file is not a usable disk until it finishes: ` +
      `run \`${rerunCommand(op)}\` again to finish it (same keys), or add --abort to roll it back`,
  );
}
