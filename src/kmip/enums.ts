/**
 * KMIP 1.0–1.4 enumerations used by vmcrypt (KMIP 1.4 §9.1.3.2). Values are the wire values.
 * Each table doubles as a type: `type State = (typeof State)[keyof typeof State]`.
 */

/** §9.1.3.2.28 */
export const ResultStatus = {
  Success: 0x00,
  OperationFailed: 0x01,
  OperationPending: 0x02,
  OperationUndone: 0x03,
} as const;

/** §9.1.3.2.29 */
export const ResultReason = {
  ItemNotFound: 0x01,
  ResponseTooLarge: 0x02,
  AuthenticationNotSuccessful: 0x03,
  InvalidMessage: 0x04,
  OperationNotSupported: 0x05,
  MissingData: 0x06,
  InvalidField: 0x07,
  FeatureNotSupported: 0x08,
  OperationCanceledByRequester: 0x09,
  CryptographicFailure: 0x0a,
  IllegalOperation: 0x0b,
  PermissionDenied: 0x0c,
  ObjectArchived: 0x0d,
  IndexOutOfBounds: 0x0e,
  ApplicationNamespaceNotSupported: 0x0f,
  KeyFormatTypeNotSupported: 0x10,
  KeyCompressionTypeNotSupported: 0x11,
  EncodingOptionError: 0x12,
  KeyValueNotPresent: 0x13,
  AttestationRequired: 0x14,
  AttestationFailed: 0x15,
  Sensitive: 0x16,
  NotExtractable: 0x17,
  ObjectAlreadyExists: 0x18,
  GeneralFailure: 0x100,
} as const;

/** §9.1.3.2.2 */
export const ObjectType = {
  Certificate: 0x01,
  SymmetricKey: 0x02,
  PublicKey: 0x03,
  PrivateKey: 0x04,
  SplitKey: 0x05,
  Template: 0x06,
  SecretData: 0x07,
  OpaqueObject: 0x08,
  PgpKey: 0x09,
} as const;

/** §9.1.3.2.13 (subset: the symmetric ones and the common asymmetric ones) */
export const CryptographicAlgorithm = {
  DES: 0x01,
  TripleDES: 0x02,
  AES: 0x03,
  RSA: 0x04,
  DSA: 0x05,
  ECDSA: 0x06,
  HMAC_SHA1: 0x07,
  HMAC_SHA224: 0x08,
  HMAC_SHA256: 0x09,
  HMAC_SHA384: 0x0a,
  HMAC_SHA512: 0x0b,
} as const;

/** §9.1.3.2.9 */
export const SecretDataType = {
  Password: 0x01,
  Seed: 0x02,
} as const;

/** §9.1.3.2.3 */
export const KeyFormatType = {
  Raw: 0x01,
  Opaque: 0x02,
  PKCS1: 0x03,
  PKCS8: 0x04,
  X509: 0x05,
  ECPrivateKey: 0x06,
  TransparentSymmetricKey: 0x07,
} as const;

/** §9.1.3.2.17 — the key lifecycle of KMIP 1.1 §3.22 */
export const State = {
  PreActive: 0x01,
  Active: 0x02,
  Deactivated: 0x03,
  Compromised: 0x04,
  Destroyed: 0x05,
  DestroyedCompromised: 0x06,
} as const;

/** §9.1.3.2.10 */
export const NameType = {
  UninterpretedTextString: 0x01,
  URI: 0x02,
} as const;

/** §9.1.3.2.19 */
export const RevocationReasonCode = {
  Unspecified: 0x01,
  KeyCompromise: 0x02,
  CACompromise: 0x03,
  AffiliationChanged: 0x04,
  Superseded: 0x05,
  CessationOfOperation: 0x06,
  PrivilegeWithdrawn: 0x07,
} as const;

/** §9.1.3.2.24 */
export const QueryFunction = {
  QueryOperations: 0x01,
  QueryObjects: 0x02,
  QueryServerInformation: 0x03,
  QueryApplicationNamespaces: 0x04,
  QueryExtensionList: 0x05,
  QueryExtensionMap: 0x06,
  QueryAttestationTypes: 0x07,
  QueryRNGs: 0x08,
  QueryValidations: 0x09,
  QueryProfiles: 0x0a,
  QueryCapabilities: 0x0b,
  QueryClientRegistrationMethods: 0x0c,
} as const;

/** §9.1.3.2.30 */
export const BatchErrorContinuationOption = {
  Continue: 0x01,
  Stop: 0x02,
  Undo: 0x03,
} as const;

/** §9.1.3.3.1 — bit mask */
export const CryptographicUsageMask = {
  Sign: 0x00000001,
  Verify: 0x00000002,
  Encrypt: 0x00000004,
  Decrypt: 0x00000008,
  WrapKey: 0x00000010,
  UnwrapKey: 0x00000020,
  Export: 0x00000040,
  MacGenerate: 0x00000080,
  MacVerify: 0x00000100,
  DeriveKey: 0x00000200,
  ContentCommitment: 0x00000400,
  KeyAgreement: 0x00000800,
  CertificateSign: 0x00001000,
  CrlSign: 0x00002000,
  GenerateCryptogram: 0x00004000,
  ValidateCryptogram: 0x00008000,
  TranslateEncrypt: 0x00010000,
  TranslateDecrypt: 0x00020000,
  TranslateWrap: 0x00040000,
  TranslateUnwrap: 0x00080000,
} as const;

/** §9.1.3.2.26 */
export const StorageStatusMask = {
  OnlineStorage: 0x01,
  ArchivalStorage: 0x02,
} as const;

export type ResultStatusValue = (typeof ResultStatus)[keyof typeof ResultStatus];
export type ResultReasonValue = (typeof ResultReason)[keyof typeof ResultReason];
export type ObjectTypeValue = (typeof ObjectType)[keyof typeof ObjectType];
export type StateValue = (typeof State)[keyof typeof State];
