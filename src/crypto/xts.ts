import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { CryptoError } from './errors.js';
import { abytes, constantTimeEqual } from './guards.js';
import { createXtsKernel, type XtsKernel } from './xts-kernel.js';
import { nativeXts, type NativeXts, type NativeXtsState } from './xts-native.js';

/**
 * AES-256-XTS with the plain64 IV (IEEE 1619-2007 / dm-crypt), 512-byte data units, built on
 * bulk AES-ECB so one OpenSSL call covers a whole chunk instead of one cipher object per sector:
 *
 *   T0(n) = AES-ECB_K2(le64(n) ‖ 0^64)           — all sectors of the chunk in one call
 *   T_j   = T0 · α^j in GF(2^128)                 — IEEE 1619 §5.2, in the WebAssembly kernel
 *                                                  (xts-kernel.ts) or, as a fallback, JS on 32-bit lanes
 *   C_j   = AES-ECB_K1(P_j ⊕ T_j) ⊕ T_j           — all blocks of the chunk in one call
 *
 * The key is 64 bytes: K1 (data) = key[0..32], K2 (tweak) = key[32..64].
 *
 * Fastest of all is the optional native addon (native/xts.c): whole sectors per call through its own
 * VAES + AVX-512 or AES-NI kernels, chosen at run time for the CPU (0.12 / 0.28 CPU-s per GiB), or
 * OpenSSL's EVP XTS with the IV reset per sector off x86 (docs/crypto.md, docs/disk.md). It is used
 * for LUKS keys (64 bytes, 512-byte units, K1 ≠ K2, which every path refuses as OpenSSL 3 does);
 * everything else, and machines where the addon was not built, take the ECB + WebAssembly path.
 * The backend name 'openssl' (kept for callers and tests) stands for the addon, whichever of its
 * implementations runs (`nativeXts().addon.implOf` tells).
 */
export type XtsBackend = 'openssl' | 'wasm' | 'js';
export const XTS_SECTOR = 512;
/**
 * 64 KiB: small enough that the output buffer Node's `update()` allocates (zero-filled) each call
 * comes from the malloc heap and is reused; at 256 KiB glibc served it with a fresh mmap, i.e.
 * page faults and page clearing on every call — 14 % of all CPU of a bulk run in `perf`, and the
 * sys time of a 1 GiB encrypt went from ~1.35 s to ~1.05 s when cut (BENCHMARKS.md, disk).
 */
const XTS_SLICE = 64 << 10;
// Kernel memory layout: data | tweaks | ECB output | first tweaks (16 bytes per unit, unit ≥ 16).
const K_DATA = 0;
const K_TWEAK = XTS_SLICE;
const K_OUT = 2 * XTS_SLICE;
const K_T0 = 3 * XTS_SLICE;
const KERNEL_BYTES = 4 * XTS_SLICE;

function int32View(buf: Buffer): Int32Array {
  if (buf.byteOffset % 4 !== 0) throw new CryptoError('BAD_INPUT', 'xts: buffer is not 4-byte aligned');
  return new Int32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
}

function aligned(buf: Buffer): Buffer {
  if (buf.byteOffset % 4 === 0) return buf;
  const copy = Buffer.allocUnsafeSlow(buf.length);
  buf.copy(copy);
  return copy;
}

export class XtsCipher {
  readonly #tweak: Cipher;
  readonly #enc: Cipher;
  readonly #dec: Decipher;
  #tw: Buffer = Buffer.alloc(0);
  #sectors: Buffer = Buffer.alloc(0);
  readonly #unit: number;
  /** WebAssembly kernel for the per-block pass (undefined: plain JS fallback). */
  readonly #kernel: XtsKernel | undefined;
  /** Native cipher objects of the addon, own kernels or OpenSSL (undefined: ECB path). */
  #native: { addon: NativeXts; enc: NativeXtsState; dec: NativeXtsState } | undefined;
  readonly backend: XtsBackend;
  #destroyed = false;

  /**
   * @param key 64 bytes (AES-256, what LUKS uses) or 32 bytes (AES-128, for the IEEE vectors).
   * @param unitBytes data-unit size: 512 for LUKS sectors; any multiple of 16 for test vectors.
   * @param prefer 'openssl' (default: the native addon when it can serve this key, else WebAssembly),
   *   'wasm' or 'js' to force a fallback path (tests cross-check the three).
   */
  constructor(key: Buffer, unitBytes = XTS_SECTOR, prefer: XtsBackend = 'openssl') {
    abytes(key, [32, 64], 'xts key');
    if (!Number.isInteger(unitBytes) || unitBytes < 16 || unitBytes % 16 !== 0 || XTS_SLICE % unitBytes !== 0) {
      throw new CryptoError('BAD_INPUT', 'xts: data unit must be a multiple of 16 bytes dividing 64 KiB');
    }
    this.#unit = unitBytes;
    const half = key.length / 2;
    const alg = half === 32 ? 'aes-256-ecb' : 'aes-128-ecb';
    const k1 = key.subarray(0, half);
    const k2 = key.subarray(half);
    // ECB objects are stateless between update() calls, so one object serves every chunk.
    this.#tweak = createCipheriv(alg, k2, null).setAutoPadding(false);
    this.#enc = createCipheriv(alg, k1, null).setAutoPadding(false);
    this.#dec = createDecipheriv(alg, k1, null).setAutoPadding(false);
    this.#native = prefer === 'openssl' ? openNative(key, unitBytes) : undefined;
    this.#kernel = this.#native === undefined && prefer !== 'js' ? createXtsKernel(KERNEL_BYTES) : undefined;
    this.backend = this.#native !== undefined ? 'openssl' : this.#kernel !== undefined ? 'wasm' : 'js';
  }

  /** Encrypts `data` (a multiple of 512 bytes) in place; its first sector has number `firstSector`. */
  encrypt(data: Buffer, firstSector: number): void {
    this.#run(data, firstSector, true);
  }

  /** Decrypts `data` (a multiple of 512 bytes) in place. */
  decrypt(data: Buffer, firstSector: number): void {
    this.#run(data, firstSector, false);
  }

  /** Drops scratch buffers (they held tweaks, not keys; OpenSSL frees its key schedules on GC). */
  destroy(): void {
    this.#destroyed = true;
    if (this.#native !== undefined) {
      this.#native.addon.destroy(this.#native.enc);
      this.#native.addon.destroy(this.#native.dec);
      this.#native = undefined;
    }
    this.#kernel?.memory.fill(0);
    this.#tw.fill(0);
    this.#tw = Buffer.alloc(0);
    this.#sectors = Buffer.alloc(0);
  }

  #run(data: Buffer, firstSector: number, encrypt: boolean): void {
    if (this.#destroyed) throw new CryptoError('BAD_INPUT', 'xts: cipher used after destroy()');
    if (data.length % this.#unit !== 0) throw new CryptoError('BAD_INPUT', `xts: data is not a whole number of ${this.#unit}-byte units`);
    if (!Number.isSafeInteger(firstSector) || firstSector < 0) throw new CryptoError('BAD_INPUT', 'xts: bad sector number');
    if (this.#native !== undefined) {
      const { addon, enc, dec } = this.#native;
      addon.crypt(encrypt ? enc : dec, data, firstSector, this.#unit);
      return;
    }
    if (data.byteOffset % 4 !== 0) {
      const tmp = aligned(data);
      this.#run(tmp, firstSector, encrypt);
      tmp.copy(data);
      tmp.fill(0);
      return;
    }
    // Slices that stay in L2 cache run ~1.6x faster than multi-MiB calls (measured: docs/crypto.md).
    for (let off = 0; off < data.length; off += XTS_SLICE) {
      const part = data.subarray(off, Math.min(data.length, off + XTS_SLICE));
      this.#slice(part, firstSector + off / this.#unit, encrypt);
    }
  }

  #sectorNumbers(nSectors: number, firstSector: number): Buffer {
    if (this.#sectors.length < nSectors * 16) this.#sectors = Buffer.allocUnsafeSlow(XTS_SLICE / 16);
    // plain64: the IV is the 64-bit little-endian sector number, zero-padded to 16 bytes.
    const sec = int32View(this.#sectors);
    for (let s = 0; s < nSectors; s++) {
      const n = firstSector + s;
      sec[4 * s] = n | 0;
      sec[4 * s + 1] = Math.floor(n / 0x100000000) | 0;
      sec[4 * s + 2] = 0;
      sec[4 * s + 3] = 0;
    }
    return this.#sectors.subarray(0, nSectors * 16);
  }

  /** One slice through the WebAssembly kernel: 3 memcpys, 2 ECB calls, 2 kernel passes. */
  #sliceKernel(k: XtsKernel, data: Buffer, firstSector: number, encrypt: boolean): void {
    const unit = this.#unit;
    const nSectors = data.length / unit;
    const len = data.length;
    const mem = k.memory;
    mem.set(this.#tweak.update(this.#sectorNumbers(nSectors, firstSector)), K_T0);
    mem.set(data, K_DATA);
    k.pass1(K_T0, K_DATA, K_TWEAK, nSectors, unit / 16);
    const view = Buffer.from(mem.buffer, mem.byteOffset + K_DATA, len);
    const out = encrypt ? this.#enc.update(view) : this.#dec.update(view);
    if (out.length !== len) throw new CryptoError('BAD_INPUT', 'xts: ECB returned a short block');
    mem.set(out, K_OUT);
    out.fill(0);
    k.pass2(K_OUT, K_TWEAK, K_DATA, len);
    data.set(mem.subarray(K_DATA, K_DATA + len));
  }

  #slice(data: Buffer, firstSector: number, encrypt: boolean): void {
    if (this.#kernel !== undefined) {
      this.#sliceKernel(this.#kernel, data, firstSector, encrypt);
      return;
    }
    const unit = this.#unit;
    const blocksPerUnit = unit / 16;
    const wordsPerUnit = unit / 4;
    const nSectors = data.length / unit;
    if (nSectors === 0) return;
    if (this.#tw.length < data.length) this.#tw = Buffer.allocUnsafeSlow(XTS_SLICE);
    const t0buf = aligned(this.#tweak.update(this.#sectorNumbers(nSectors, firstSector)));
    const t0 = int32View(t0buf);
    const d = int32View(data);
    const tw = int32View(this.#tw);
    for (let s = 0; s < nSectors; s++) {
      let w0 = t0[4 * s]!;
      let w1 = t0[4 * s + 1]!;
      let w2 = t0[4 * s + 2]!;
      let w3 = t0[4 * s + 3]!;
      let i = s * wordsPerUnit;
      for (let j = 0; j < blocksPerUnit; j++, i += 4) {
        d[i] = d[i]! ^ w0;
        d[i + 1] = d[i + 1]! ^ w1;
        d[i + 2] = d[i + 2]! ^ w2;
        d[i + 3] = d[i + 3]! ^ w3;
        tw[i] = w0;
        tw[i + 1] = w1;
        tw[i + 2] = w2;
        tw[i + 3] = w3;
        // multiply by α: 128-bit little-endian shift left, reduce with x^128 = x^7 + x^2 + x + 1.
        const carry = w3 >>> 31;
        w3 = (w3 << 1) | (w2 >>> 31);
        w2 = (w2 << 1) | (w1 >>> 31);
        w1 = (w1 << 1) | (w0 >>> 31);
        w0 = (w0 << 1) ^ (-carry & 0x87);
      }
    }
    const out = aligned(encrypt ? this.#enc.update(data) : this.#dec.update(data));
    if (out.length !== data.length) throw new CryptoError('BAD_INPUT', 'xts: ECB returned a short block');
    const o = int32View(out);
    const len = d.length;
    for (let i = 0; i < len; i++) d[i] = o[i]! ^ tw[i]!;
    out.fill(0);
  }
}

/** Native ciphers for a LUKS key, or undefined when the addon is absent or cannot take this key. */
function openNative(key: Buffer, unitBytes: number): { addon: NativeXts; enc: NativeXtsState; dec: NativeXtsState } | undefined {
  const { addon } = nativeXts();
  // Every native path refuses XTS keys whose halves are equal, as OpenSSL 3 does (IEEE 1619 vectors 1–2 have them).
  if (addon === undefined || key.length !== 64 || unitBytes !== XTS_SECTOR || constantTimeEqual(key.subarray(0, 32), key.subarray(32))) {
    return undefined;
  }
  return { addon, enc: addon.create(key, true), dec: addon.create(key, false) };
}
