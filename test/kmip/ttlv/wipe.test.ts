import { describe, expect, it } from 'vitest';
import { Tag } from '../../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, ttlv, wipeTtlv } from '../../../src/kmip/ttlv/index.js';

describe('wipeTtlv', () => {
  it('zeroes every Byte String and Big Integer of a decoded tree, nested ones included', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const msg = encodeTtlv(
      ttlv.struct(Tag.RequestMessage, [
        ttlv.struct(Tag.RequestPayload, [ttlv.struct(Tag.KeyBlock, [ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, key)])])]),
        ttlv.text(Tag.UniqueIdentifier, 'id'),
      ]),
    );
    const root = decodeTtlv(msg);
    msg.fill(0);
    const bytesOf = (): Buffer[] => {
      const out: Buffer[] = [];
      const walk = (i: typeof root): void => {
        if (i.type === 'Structure') i.value.forEach(walk);
        else if (i.type === 'ByteString' || i.type === 'BigInteger') out.push(i.value);
      };
      walk(root);
      return out;
    };
    expect(bytesOf().some((b) => b.equals(key))).toBe(true); // the decoder's own copy survives the message
    wipeTtlv(root);
    expect(bytesOf().every((b) => b.every((x) => x === 0))).toBe(true);
  });
});
