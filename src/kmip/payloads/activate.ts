/** Activate (KMIP 1.4 §4.19): request = optional Unique Identifier, response = Unique Identifier. */
export {
  encodeUidRequest as encodeActivateRequest,
  decodeUidRequest as decodeActivateRequest,
  encodeUidResponse as encodeActivateResponse,
  decodeUidResponse as decodeActivateResponse,
} from './uid-only.js';
export type { UidRequest as ActivateRequest, UidResponse as ActivateResponse } from './uid-only.js';
