import { VmcryptError } from '../errors.js';

/**
 * Every failure the host agent reports on purpose, with a stable code. The HTTP status
 * each maps to lives here too, so the API and the docs (docs/host.md) stay in one place.
 */
export const HostErrorCode = {
  BAD_REQUEST: 'HOST_BAD_REQUEST',
  NOT_PAIRED: 'HOST_NOT_PAIRED',
  FORBIDDEN: 'HOST_FORBIDDEN',
  PAIRING_REJECTED: 'HOST_PAIRING_REJECTED',
  NOT_FOUND: 'HOST_NOT_FOUND',
  CONFLICT: 'HOST_CONFLICT',
  VM_LOCKED: 'HOST_VM_LOCKED',
  VMX_INVALID: 'HOST_VMX_INVALID',
  VMX_TAMPERED: 'HOST_VMX_TAMPERED',
  CRYPTO_MODE: 'HOST_CRYPTO_MODE',
  KEY_MISSING: 'HOST_KEY_MISSING',
  UNSUPPORTED_ENCRYPTED: 'HOST_UNSUPPORTED_ENCRYPTED',
  POWER_STATE: 'HOST_POWER_STATE',
  QEMU_FAILED: 'HOST_QEMU_FAILED',
  QMP_FAILED: 'HOST_QMP_FAILED',
  DATASTORE: 'HOST_DATASTORE',
  COREDUMP_INVALID: 'HOST_COREDUMP_INVALID',
  COREDUMP_WRONG_KEY: 'HOST_COREDUMP_WRONG_KEY',
  COREDUMP_SUPPRESSED: 'HOST_COREDUMP_SUPPRESSED',
  FILE_CRYPTO: 'HOST_FILE_CRYPTO',
  SETUP: 'HOST_SETUP',
  BUSY: 'HOST_BUSY',
  RULE: 'HOST_RULE',
  NO_SPACE: 'HOST_NO_SPACE',
  TEST_FAULT: 'HOST_TEST_FAULT',
} as const;
export type HostErrorCode = (typeof HostErrorCode)[keyof typeof HostErrorCode];

export const hostErrorHttpStatus: Readonly<Record<HostErrorCode, number>> = {
  HOST_BAD_REQUEST: 400,
  HOST_NOT_PAIRED: 403,
  HOST_FORBIDDEN: 403,
  HOST_PAIRING_REJECTED: 403,
  HOST_NOT_FOUND: 404,
  HOST_CONFLICT: 409,
  HOST_VM_LOCKED: 409,
  HOST_VMX_INVALID: 422,
  HOST_VMX_TAMPERED: 422,
  HOST_CRYPTO_MODE: 409,
  HOST_KEY_MISSING: 409,
  HOST_UNSUPPORTED_ENCRYPTED: 409,
  HOST_POWER_STATE: 409,
  HOST_QEMU_FAILED: 500,
  HOST_QMP_FAILED: 500,
  HOST_DATASTORE: 409,
  HOST_COREDUMP_INVALID: 422,
  HOST_COREDUMP_WRONG_KEY: 422,
  HOST_COREDUMP_SUPPRESSED: 409,
  HOST_FILE_CRYPTO: 422,
  HOST_SETUP: 500,
  HOST_BUSY: 409,
  HOST_RULE: 409,
  HOST_NO_SPACE: 409,
  HOST_TEST_FAULT: 500,
};

export class HostError extends VmcryptError {
  declare readonly code: HostErrorCode;

  constructor(code: HostErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  get httpStatus(): number {
    return hostErrorHttpStatus[this.code];
  }
}
