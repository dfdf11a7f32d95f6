import { VmcryptError } from '../errors.js';

/** Stable codes of key providers (docs/key-providers.md lists them). */
export const KeyProviderErrorCode = {
  /** Every key server of the provider failed; `attempts` says which and why. */
  UNREACHABLE: 'KEY_PROVIDER_UNREACHABLE',
  /** The provider or site description is invalid (no servers, duplicate names, bad timeout, …). */
  CONFIG_INVALID: 'KEY_PROVIDER_CONFIG_INVALID',
  /** The local site named for site-local ordering is not one of the sites. */
  SITE_UNKNOWN: 'KEY_PROVIDER_SITE_UNKNOWN',
} as const;
export type KeyProviderErrorCode = (typeof KeyProviderErrorCode)[keyof typeof KeyProviderErrorCode];

/** Why one key server was given up on, as the key provider saw it. */
export interface FailedAttempt {
  /** Server name as configured (e.g. "kms-a"). */
  readonly server: string;
  /** "host:port". */
  readonly address: string;
  /** The failure class that made the provider move on (see FailureKind). */
  readonly kind: string;
  /** Stable error code of the underlying failure (KMIP_CLIENT_…). */
  readonly code: string;
  readonly message: string;
  /** Time spent on this server before giving up. */
  readonly elapsedMs: number;
}

export class KeyProviderError extends VmcryptError {
  declare readonly code: KeyProviderErrorCode;
  readonly provider: string | undefined;
  readonly attempts: readonly FailedAttempt[];

  constructor(
    code: KeyProviderErrorCode,
    message: string,
    options: { provider?: string; attempts?: readonly FailedAttempt[]; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.provider = options.provider;
    this.attempts = options.attempts ?? [];
  }
}
