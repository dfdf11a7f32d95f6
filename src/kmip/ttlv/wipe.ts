import type { TtlvItem } from './types.js';

/**
 * Zeroes every byte value (Byte String, Big Integer) in a decoded tree: the decoder copies them
 * out of the message, so zeroing the message alone leaves e.g. a Register's key bytes behind.
 */
export function wipeTtlv(item: TtlvItem): void {
  if (item.type === 'Structure') for (const c of item.value) wipeTtlv(c);
  else if (item.type === 'ByteString' || item.type === 'BigInteger') item.value.fill(0);
}
