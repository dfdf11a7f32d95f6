import { VmcryptError } from '../errors.js';
import { ResultReason } from './enums.js';

/**
 * Stable codes of every KMIP failure, each mapped once to the KMIP Result Reason the server
 * answers with (KMIP 1.1 §9.1.3.2.29). Decoder codes (TTLV_*) all mean Invalid Message.
 */
export const KmipErrorCodes = {
  TTLV_TRUNCATED: ResultReason.InvalidMessage,
  TTLV_TOO_LARGE: ResultReason.InvalidMessage,
  TTLV_TOO_DEEP: ResultReason.InvalidMessage,
  TTLV_BAD_LENGTH: ResultReason.InvalidMessage,
  TTLV_BAD_PADDING: ResultReason.InvalidMessage,
  TTLV_BAD_TYPE: ResultReason.InvalidMessage,
  TTLV_BAD_VALUE: ResultReason.InvalidMessage,
  TTLV_TRAILING_BYTES: ResultReason.InvalidMessage,
  TTLV_TOO_MANY_ITEMS: ResultReason.InvalidMessage,
  KMIP_INVALID_MESSAGE: ResultReason.InvalidMessage,
  KMIP_MISSING_FIELD: ResultReason.InvalidMessage,
  KMIP_INVALID_FIELD: ResultReason.InvalidField,
  KMIP_UNSUPPORTED_VERSION: ResultReason.InvalidMessage,
  KMIP_ITEM_NOT_FOUND: ResultReason.ItemNotFound,
  KMIP_PERMISSION_DENIED: ResultReason.PermissionDenied,
  KMIP_OPERATION_NOT_SUPPORTED: ResultReason.OperationNotSupported,
  KMIP_FEATURE_NOT_SUPPORTED: ResultReason.FeatureNotSupported,
  KMIP_ILLEGAL_OPERATION: ResultReason.IllegalOperation,
  KMIP_KEY_FORMAT_NOT_SUPPORTED: ResultReason.KeyFormatTypeNotSupported,
  KMIP_CRYPTOGRAPHIC_FAILURE: ResultReason.CryptographicFailure,
  KMIP_INDEX_OUT_OF_BOUNDS: ResultReason.IndexOutOfBounds,
  KMIP_RESPONSE_TOO_LARGE: ResultReason.ResponseTooLarge,
  /** KMIP 1.4 §3.45 / §3.47: the key material of a Sensitive or non-Extractable object leaves only wrapped. */
  KMIP_SENSITIVE: ResultReason.Sensitive,
  KMIP_NOT_EXTRACTABLE: ResultReason.NotExtractable,
  KMIP_GENERAL_FAILURE: ResultReason.GeneralFailure,
} as const satisfies Record<string, number>;

export type KmipErrorCode = keyof typeof KmipErrorCodes;

/** A KMIP failure with a stable code; `resultReason` is what goes on the wire. Never holds key bytes. */
export class KmipError extends VmcryptError {
  declare readonly code: KmipErrorCode;
  readonly resultReason: number;

  constructor(code: KmipErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.resultReason = KmipErrorCodes[code];
  }
}
