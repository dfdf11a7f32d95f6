import { VmcryptError } from '../errors.js';

/** Stable codes of every error src/disk raises on purpose (docs/disk.md lists them). */
export const DiskErrorCode = {
  /** The key (keyslot passphrase) opens no keyslot of this disk. Data untouched. */
  WRONG_KEY: 'WRONG_KEY',
  /** Not a LUKS file at all (bad magic). */
  DISK_NOT_LUKS: 'DISK_NOT_LUKS',
  /** LUKS, but a version/cipher/hash/layout we do not support (e.g. LUKS2). */
  DISK_UNSUPPORTED: 'DISK_UNSUPPORTED',
  /** The header or keyslot area is damaged; the message names the field. */
  DISK_HEADER_CORRUPT: 'DISK_HEADER_CORRUPT',
  /** The file ends before the header, keyslot material or payload does. */
  DISK_TRUNCATED: 'DISK_TRUNCATED',
  /** Not enough free space on the target filesystem for the new file. */
  DISK_NO_SPACE: 'DISK_NO_SPACE',
  /** The destination already exists (we never overwrite a disk silently). */
  DISK_EXISTS: 'DISK_EXISTS',
  /** A source file is missing or unreadable. */
  DISK_NOT_FOUND: 'DISK_NOT_FOUND',
  /** Bad argument: size not a multiple of 512, bad iterations, same old and new key, … */
  DISK_BAD_INPUT: 'DISK_BAD_INPUT',
  /** Another vmcrypt operation is changing this disk right now. */
  DISK_BUSY: 'DISK_BUSY',
  /** No free keyslot for a shallow rekey. */
  DISK_NO_KEYSLOT: 'DISK_NO_KEYSLOT',
  /**
   * The disk is in the middle of an in-place operation (or another one than asked): the message
   * names the command to rerun to finish it, or to roll it back with --abort.
   */
  DISK_IN_PLACE_UNFINISHED: 'DISK_IN_PLACE_UNFINISHED',
  /** In-place progress (sidecar or in-progress block) missing, damaged or not matching; or nothing to abort / too late to abort. */
  DISK_IN_PLACE_STATE: 'DISK_IN_PLACE_STATE',
  /** A worker thread failed. */
  DISK_WORKER_FAILED: 'DISK_WORKER_FAILED',
} as const;
export type DiskErrorCode = (typeof DiskErrorCode)[keyof typeof DiskErrorCode];

export class DiskError extends VmcryptError {
  declare readonly code: DiskErrorCode;
  constructor(code: DiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
