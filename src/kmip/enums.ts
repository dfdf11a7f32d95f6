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
  HMAC_MD5: 0x0c,
  DH: 0x0d,
  ECDH: 0x0e,
  ECMQV: 0x0f,
  /** KMIP 1.2 */
  EC: 0x1a,
} as const;

/** §9.1.3.2.9 */
export const SecretDataType = {
  Password: 0x01,
  Seed: 0x02,
} as const;

export { CertificateType, KeyFormatType, RecommendedCurve, SplitKeyMethod } from './key-enums.js';

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

// Cryptographic services and key wrapping (KMIP 1.2–1.4 §4.29–4.34, §2.1.5)

/** §9.1.3.2.14 */
export const BlockCipherMode = {
  CBC: 0x01,
  ECB: 0x02,
  PCBC: 0x03,
  CFB: 0x04,
  OFB: 0x05,
  CTR: 0x06,
  CMAC: 0x07,
  CCM: 0x08,
  GCM: 0x09,
  CBC_MAC: 0x0a,
  XTS: 0x0b,
  AESKeyWrapPadding: 0x0c,
  NISTKeyWrap: 0x0d,
} as const;

/** §9.1.3.2.15 */
export const PaddingMethod = {
  None: 0x01,
  OAEP: 0x02,
  PKCS5: 0x03,
  SSL3: 0x04,
  Zeros: 0x05,
  ANSI_X923: 0x06,
  ISO_10126: 0x07,
  PKCS1v15: 0x08,
  X931: 0x09,
  PSS: 0x0a,
} as const;

/** §9.1.3.2.16 */
export const HashingAlgorithm = {
  MD5: 0x03,
  SHA1: 0x04,
  SHA224: 0x05,
  SHA256: 0x06,
  SHA384: 0x07,
  SHA512: 0x08,
  SHA512_224: 0x0c,
  SHA512_256: 0x0d,
  SHA3_224: 0x0e,
  SHA3_256: 0x0f,
  SHA3_384: 0x10,
  SHA3_512: 0x11,
} as const;

/** §9.1.3.2.7 */
export const DigitalSignatureAlgorithm = {
  SHA1WithRSAEncryption: 0x03,
  SHA224WithRSAEncryption: 0x04,
  SHA256WithRSAEncryption: 0x05,
  SHA384WithRSAEncryption: 0x06,
  SHA512WithRSAEncryption: 0x07,
  RSASSA_PSS: 0x08,
  ECDSAWithSHA1: 0x0c,
  ECDSAWithSHA224: 0x0d,
  ECDSAWithSHA256: 0x0e,
  ECDSAWithSHA384: 0x0f,
  ECDSAWithSHA512: 0x10,
} as const;

/** §9.1.3.2.21 */
export const DerivationMethod = {
  PBKDF2: 0x01,
  Hash: 0x02,
  HMAC: 0x03,
  Encrypt: 0x04,
  NIST800_108_C: 0x05,
  NIST800_108_F: 0x06,
  NIST800_108_DPI: 0x07,
} as const;

/** §9.1.3.2.4 */
export const WrappingMethod = {
  Encrypt: 0x01,
  MACSign: 0x02,
  EncryptThenMACSign: 0x03,
  MACSignThenEncrypt: 0x04,
  TR31: 0x05,
} as const;

/** §9.1.3.2.32 */
export const EncodingOption = {
  NoEncoding: 0x01,
  TTLVEncoding: 0x02,
} as const;

/** §9.1.3.2.22 */
export const ValidityIndicator = {
  Valid: 0x01,
  Invalid: 0x02,
  Unknown: 0x03,
} as const;

/** §9.1.3.2.49 */
export const MaskGenerator = {
  MGF1: 0x01,
} as const;

/** §9.1.3.2.20 */
export const LinkType = {
  CertificateLink: 0x101,
  PublicKeyLink: 0x102,
  PrivateKeyLink: 0x103,
  DerivationBaseObjectLink: 0x104,
  DerivedKeyLink: 0x105,
  ReplacementObjectLink: 0x106,
  ReplacedObjectLink: 0x107,
  ParentLink: 0x108,
  ChildLink: 0x109,
  PreviousLink: 0x10a,
  NextLink: 0x10b,
} as const;
