// Public API of encrypted disks (LUKS1 files QEMU opens with the DEK hex as its secret).
export type {
  BulkResult,
  CloneDiskOptions,
  CreateDiskOptions,
  DecryptDiskOptions,
  DiskInfo,
  DiskProgress,
  EncryptDiskOptions,
  KeyslotInfo,
  NoticeFn,
  ProgressFn,
  RekeyDiskOptions,
} from './types.js';
export { DiskError, DiskErrorCode } from './errors.js';
export { createEncryptedDisk } from './create.js';
export { encryptDisk } from './encrypt.js';
export { decryptDisk } from './decrypt.js';
export { rekeyDisk } from './rekey.js';
export { cloneDisk } from './clone.js';
export { diskInfo } from './info.js';
export { checkDiskKey } from './verify.js';
export { DEFAULT_KEYSLOT_ITERATIONS } from './luks1/constants.js';
export type { DecryptInPlaceOptions, EncryptInPlaceOptions, InPlaceOptions, InPlaceResult, RekeyInPlaceOptions } from './types.js';
export { decryptDiskInPlace, encryptDiskInPlace, rekeyDiskInPlace } from './inplace/api.js';
