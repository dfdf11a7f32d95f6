import * as nodeCrypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import { nativeXts } from '../../crypto/xts-native.js';

/** One-shot digest (Node ≥ 20.12: `crypto.hash`, no Hash object per call), else createHash. */
type OneShot = (alg: string, data: Buffer, enc: 'buffer') => Buffer;
const oneShot = (nodeCrypto as unknown as { hash?: OneShot }).hash;
const digest = (hash: string, data: Buffer): Buffer => (oneShot !== undefined ? oneShot(hash, data, 'buffer') : createHash(hash).update(data).digest());

const digestLengths = new Map<string, number>();
function digestLength(hash: string): number {
  let n = digestLengths.get(hash);
  if (n === undefined) {
    n = createHash(hash).digest().length;
    digestLengths.set(hash, n);
  }
  return n;
}

/**
 * Anti-forensic splitter (LUKS1 spec §2.4, "AF-Splitter"): the master key is stretched into
 * `stripes` blocks so that destroying any part of the keyslot area destroys the key.
 * diffuse() hashes each digest-sized piece i as H(be32(i) ‖ piece); a last partial piece keeps
 * the first bytes of its hash. It runs once per stripe (3999 times per keyslot): ~60 ms of CPU
 * per keyslot split or merge with a Hash object per piece, on the critical path of every disk
 * operation's start. fold() below runs the whole loop in the native addon when it is there
 * (native/xts-af.c: one digest context, < 5 ms); this JavaScript is the fallback.
 */
function diffuse(block: Buffer, hash: string): void {
  const digestLen = digestLength(hash);
  const input = Buffer.alloc(4 + digestLen);
  for (let i = 0, off = 0; off < block.length; i++, off += digestLen) {
    const n = Math.min(digestLen, block.length - off);
    input.writeUInt32BE(i, 0);
    block.copy(input, 4, off, off + n);
    const h = digest(hash, input.subarray(0, 4 + n));
    h.copy(block, off, 0, n);
    h.fill(0); // derived from key material
  }
  input.fill(0);
}

function xorInto(dst: Buffer, src: Buffer): void {
  for (let i = 0; i < dst.length; i++) dst[i] = dst[i]! ^ src[i]!;
}

type AfFold = (material: Buffer, keyBytes: number, count: number, hash: string, out: Buffer) => void;
const nativeFold = (): AfFold | undefined => {
  const f = (nativeXts().addon as unknown as { afFold?: AfFold } | undefined)?.afFold;
  return typeof f === 'function' ? f : undefined;
};

/** d = 0; for each of the first `count` stripes of `material`: d ^= stripe, diffuse(d). */
function fold(material: Buffer, n: number, count: number, hash: string): Buffer {
  const f = nativeFold();
  if (f === undefined) return afFoldJs(material, n, count, hash);
  const d = Buffer.alloc(n);
  f(material, n, count, hash, d);
  return d;
}

/** AF-split `key` into `stripes` × key.length bytes. */
export function afSplit(key: Buffer, stripes: number, hash: string): Buffer {
  const n = key.length;
  const out = randomBytes(n * stripes);
  const d = fold(out, n, stripes - 1, hash);
  xorInto(d, key);
  d.copy(out, (stripes - 1) * n);
  d.fill(0);
  return out;
}

/** Inverse of afSplit: recovers the key of `keyBytes` bytes. */
export function afMerge(material: Buffer, keyBytes: number, stripes: number, hash: string): Buffer {
  const d = fold(material, keyBytes, stripes - 1, hash);
  xorInto(d, material.subarray((stripes - 1) * keyBytes, stripes * keyBytes));
  return d;
}

/** The fold in JavaScript: the fallback without the addon (and the reference its test compares with). */
export function afFoldJs(material: Buffer, n: number, count: number, hash: string): Buffer {
  const d = Buffer.alloc(n);
  for (let i = 0; i < count; i++) {
    xorInto(d, material.subarray(i * n, (i + 1) * n));
    diffuse(d, hash);
  }
  return d;
}
