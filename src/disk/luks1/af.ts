import { createHash, randomBytes } from 'node:crypto';

/**
 * Anti-forensic splitter (LUKS1 spec §2.4, "AF-Splitter"): the master key is stretched into
 * `stripes` blocks so that destroying any part of the keyslot area destroys the key.
 * diffuse() hashes each digest-sized piece i as H(be32(i) ‖ piece); a last partial piece keeps
 * the first bytes of its hash.
 */
function diffuse(block: Buffer, hash: string): void {
  const digestLen = createHash(hash).digest().length;
  const idx = Buffer.alloc(4);
  for (let i = 0, off = 0; off < block.length; i++, off += digestLen) {
    const n = Math.min(digestLen, block.length - off);
    idx.writeUInt32BE(i, 0);
    const h = createHash(hash).update(idx).update(block.subarray(off, off + n)).digest();
    h.copy(block, off, 0, n);
    h.fill(0); // derived from key material
  }
}

function xorInto(dst: Buffer, src: Buffer): void {
  for (let i = 0; i < dst.length; i++) dst[i] = dst[i]! ^ src[i]!;
}

/** AF-split `key` into `stripes` × key.length bytes. */
export function afSplit(key: Buffer, stripes: number, hash: string): Buffer {
  const n = key.length;
  const out = randomBytes(n * stripes);
  const d = Buffer.alloc(n);
  for (let i = 0; i < stripes - 1; i++) {
    xorInto(d, out.subarray(i * n, (i + 1) * n));
    diffuse(d, hash);
  }
  xorInto(d, key);
  d.copy(out, (stripes - 1) * n);
  d.fill(0);
  return out;
}

/** Inverse of afSplit: recovers the key of `keyBytes` bytes. */
export function afMerge(material: Buffer, keyBytes: number, stripes: number, hash: string): Buffer {
  const d = Buffer.alloc(keyBytes);
  for (let i = 0; i < stripes - 1; i++) {
    xorInto(d, material.subarray(i * keyBytes, (i + 1) * keyBytes));
    diffuse(d, hash);
  }
  xorInto(d, material.subarray((stripes - 1) * keyBytes, stripes * keyBytes));
  return d;
}
