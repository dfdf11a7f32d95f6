export { decodeTtlv, messageSize, paddingOf } from './reader.js';
export { encodeTtlv, encodedSize } from './writer.js';
export { ttlv } from './build.js';
export { Fields } from './fields.js';
export { wipeTtlv } from './wipe.js';
export { ItemType, defaultDecodeLimits, TTLV_HEADER_SIZE } from './types.js';
export type { TtlvItem, TtlvOf, ItemTypeName, DecodeLimits } from './types.js';
