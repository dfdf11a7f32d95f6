import { VmcryptError } from '../errors.js';

/**
 * Every failure the manager reports on purpose, with a stable code, each mapped once to the
 * HTTP status its API answers with (docs/manager.md lists them all; a test keeps it in sync).
 * Parts add their codes here rather than inventing a second table.
 */
export const ManagerErrorCode = {
  BAD_REQUEST: 'MANAGER_BAD_REQUEST',
  UNAUTHENTICATED: 'MANAGER_UNAUTHENTICATED',
  FORBIDDEN: 'MANAGER_FORBIDDEN',
  NOT_FOUND: 'MANAGER_NOT_FOUND',
  CONFLICT: 'MANAGER_CONFLICT',
  NO_KEY_PROVIDER: 'MANAGER_NO_KEY_PROVIDER',
  PAYLOAD_TOO_LARGE: 'MANAGER_PAYLOAD_TOO_LARGE',
  KMS_UNREACHABLE: 'MANAGER_KMS_UNREACHABLE',
  HOST_UNREACHABLE: 'MANAGER_HOST_UNREACHABLE',
  DATABASE: 'MANAGER_DATABASE',
  INTERNAL: 'MANAGER_INTERNAL',
} as const;
export type ManagerErrorCode = (typeof ManagerErrorCode)[keyof typeof ManagerErrorCode];

export const managerErrorHttpStatus = {
  MANAGER_BAD_REQUEST: 400,
  MANAGER_UNAUTHENTICATED: 401,
  MANAGER_FORBIDDEN: 403,
  MANAGER_NOT_FOUND: 404,
  MANAGER_CONFLICT: 409,
  MANAGER_NO_KEY_PROVIDER: 409,
  MANAGER_PAYLOAD_TOO_LARGE: 413,
  MANAGER_KMS_UNREACHABLE: 503,
  MANAGER_HOST_UNREACHABLE: 503,
  MANAGER_DATABASE: 500,
  MANAGER_INTERNAL: 500,
} as const satisfies Readonly<Record<ManagerErrorCode, number>>;

export class ManagerError extends VmcryptError {
  declare readonly code: ManagerErrorCode;

  constructor(code: ManagerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  get httpStatus(): number {
    return managerErrorHttpStatus[this.code];
  }
}

/** A state refusal names the rule it enforces, so the operator knows what to change. */
export function conflict(rule: string, detail: string): ManagerError {
  return new ManagerError('MANAGER_CONFLICT', `${detail} (rule: ${rule})`);
}

export function notFound(kind: string, id: string): ManagerError {
  return new ManagerError('MANAGER_NOT_FOUND', `${kind} ${id} not found`);
}
