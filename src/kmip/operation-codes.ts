/** KMIP operations (KMIP 1.4 §9.1.3.2.27). Wire values of the Operation enumeration. */
export const Operation = {
  Create: 0x01,
  CreateKeyPair: 0x02,
  Register: 0x03,
  ReKey: 0x04,
  DeriveKey: 0x05,
  Certify: 0x06,
  ReCertify: 0x07,
  Locate: 0x08,
  Check: 0x09,
  Get: 0x0a,
  GetAttributes: 0x0b,
  GetAttributeList: 0x0c,
  AddAttribute: 0x0d,
  ModifyAttribute: 0x0e,
  DeleteAttribute: 0x0f,
  ObtainLease: 0x10,
  GetUsageAllocation: 0x11,
  Activate: 0x12,
  Revoke: 0x13,
  Destroy: 0x14,
  Archive: 0x15,
  Recover: 0x16,
  Validate: 0x17,
  Query: 0x18,
  Cancel: 0x19,
  Poll: 0x1a,
  Notify: 0x1b,
  Put: 0x1c,
  ReKeyKeyPair: 0x1d,
  DiscoverVersions: 0x1e,
  Encrypt: 0x1f,
  Decrypt: 0x20,
  Sign: 0x21,
  SignatureVerify: 0x22,
  MAC: 0x23,
  MACVerify: 0x24,
  RNGRetrieve: 0x25,
  RNGSeed: 0x26,
  Hash: 0x27,
  CreateSplitKey: 0x28,
  JoinSplitKey: 0x29,
  Import: 0x2a,
  Export: 0x2b,
} as const;

export type OperationValue = (typeof Operation)[keyof typeof Operation];

/** Name of an operation value, for logs and messages ("0x2c" when unknown). */
const NAME_OF = new Map<number, string>(Object.entries(Operation).map(([name, v]) => [v, name]));

export function operationName(value: number): string {
  return NAME_OF.get(value) ?? `0x${value.toString(16)}`;
}
