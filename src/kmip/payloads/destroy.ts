/** Destroy (KMIP 1.4 §4.21): request = optional Unique Identifier, response = Unique Identifier. */
export {
  encodeUidRequest as encodeDestroyRequest,
  decodeUidRequest as decodeDestroyRequest,
  encodeUidResponse as encodeDestroyResponse,
  decodeUidResponse as decodeDestroyResponse,
} from './uid-only.js';
export type { UidRequest as DestroyRequest, UidResponse as DestroyResponse } from './uid-only.js';
