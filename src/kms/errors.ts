import { VmcryptError } from '../errors.js';

/** Stable codes of key-server failures outside the KMIP wire (store, master key, config). */
export const KmsErrorCode = {
  /** An object with this id already exists in the store (id allocation retries on it). */
  STORE_ID_EXISTS: 'STORE_ID_EXISTS',
  /** Optimistic concurrency: the record changed since it was read. */
  STORE_CONFLICT: 'STORE_CONFLICT',
  /** No record with this id. */
  STORE_NOT_FOUND: 'STORE_NOT_FOUND',
  /** The store is closed or its backend failed. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The master key file is missing, unreadable, of the wrong size or too permissive. */
  MASTER_KEY_INVALID: 'MASTER_KEY_INVALID',
  /** Sealed key material failed authentication (wrong master key, tampering, wrong object id). */
  UNSEAL_FAILED: 'UNSEAL_FAILED',
  /** A stored record does not authenticate: edited, swapped between ids, or its integrity tag removed. */
  RECORD_TAMPERED: 'RECORD_TAMPERED',
  /** A stored record is older than a version this server has already seen (put back from history). */
  RECORD_ROLLED_BACK: 'RECORD_ROLLED_BACK',
  /** The key server is sealed: it serves nothing until enough unseal shares are entered. */
  SEALED: 'SEALED',
  /** An unseal share is malformed or mistyped (bad checksum), or too few shares were given. */
  UNSEAL_SHARE_INVALID: 'UNSEAL_SHARE_INVALID',
  /** A backup file is truncated, corrupted, edited or not a backup; nothing was changed. */
  BACKUP_INVALID: 'BACKUP_INVALID',
  /** Restore refused: the target data dir or store is not empty, or the backup does not open with the given unseal material; nothing was changed. */
  RESTORE_REFUSED: 'RESTORE_REFUSED',
  /** The data directory or a configured file is missing or invalid. */
  CONFIG_INVALID: 'CONFIG_INVALID',
} as const;

export type KmsErrorCodeValue = (typeof KmsErrorCode)[keyof typeof KmsErrorCode];

export class KmsError extends VmcryptError {
  declare readonly code: KmsErrorCodeValue;

  constructor(code: KmsErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
