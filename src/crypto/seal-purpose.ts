/**
 * What sealed bytes are. Every GCM seal in the project names one of these in its AAD, so bytes
 * sealed for one use never open as another (a log record as NVRAM, a KMS blob as a PKI key),
 * even under the same key. Written once here so two uses cannot pick the same label.
 */
export const SealPurpose = {
  /** A DEK wrapped by a KEK (.vmx keySafe, disk layers); bound to the KEK's key id. */
  DEK_WRAP: 'dek-wrap',
  /** The .vmx `encrypted` section; bound to the VM uuid. */
  VMX_CONFIG: 'vmx-config',
  /** NAME.nvram; bound to the VM uuid. */
  NVRAM: 'nvram',
  /** One record of an encrypted NAME.log; bound to the VM uuid and the record index. */
  VM_LOG_RECORD: 'vm-log-record',
  /** One chunk of a sealed stream (core dumps, guest memory); bound to the header hash, index, final flag. */
  SEALED_STREAM_CHUNK: 'sealed-stream-chunk',
  /** KMS key material at rest under the master key; bound to the managed object id. */
  KMS_KEY_MATERIAL: 'kms-key-material',
  /** The KMS master key at rest under the unseal key (Shamir-shared); bound to "master" and the share counts. */
  KMS_MASTER_KEY: 'kms-master-key',
  /** A PKI private key at rest under a master key; bound to its record (key provider id). */
  PKI_PRIVATE_KEY: 'pki-private-key',
} as const;
export type SealPurpose = (typeof SealPurpose)[keyof typeof SealPurpose];
