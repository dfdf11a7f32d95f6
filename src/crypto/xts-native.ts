import { loadNativeAddon, type LoadedAddon } from './native-addon.js';

/**
 * The implementations of the addon (native/xts.c), chosen per cipher object at run time: own
 * VAES + AVX-512 and AES-NI kernels on x86-64 (the fastest the CPU and OS offer), OpenSSL's EVP
 * AES-256-XTS (IV reset per sector) elsewhere or when forced (VMCRYPT_XTS_IMPL).
 */
export type NativeXtsImpl = 'vaes' | 'aesni' | 'openssl';

/**
 * The optional N-API addon (native/xts.c): AES-256-XTS over whole 512-byte sectors, plain64 tweak.
 * (It also exports the mapped-file conversions of the in-place walk and the copy modes, typed
 * where they are used: disk/inplace/walk-map.ts, disk/bulk/copy-map.ts; and afFold.)
 */
export interface NativeXts {
  /** impl: 'auto' (default, or VMCRYPT_XTS_IMPL) takes the fastest this CPU runs. Equal key halves are refused. */
  create(key: Buffer, encrypt: boolean, impl?: NativeXtsImpl | 'auto'): NativeXtsState;
  crypt(state: NativeXtsState, data: Buffer, firstSector: number, unitBytes: number): void;
  destroy(state: NativeXtsState): void;
  /** Which implementation this cipher runs. */
  implOf(state: NativeXtsState): NativeXtsImpl;
  /** The implementations this CPU can run, fastest first. */
  impls(): NativeXtsImpl[];
}
/**
 * Opaque handle owning the key schedule: our own (64-byte aligned, OPENSSL_cleanse'd) for vaes and
 * aesni, an EVP context for openssl; cleared on destroy or when collected.
 */
export type NativeXtsState = { readonly __brand: 'NativeXtsState' };

let loaded: LoadedAddon<NativeXts> | undefined;

/**
 * Loads the addon once per thread. Absent (not built: no compiler at install time) or disabled with
 * VMCRYPT_XTS=wasm, the XTS code falls back to the WebAssembly kernel; the reason says which.
 */
export function nativeXts(): LoadedAddon<NativeXts> {
  loaded ??= loadNativeAddon<NativeXts>('vmcrypt_xts', process.env['VMCRYPT_XTS'] === 'wasm' ? 'VMCRYPT_XTS=wasm' : undefined);
  return loaded;
}

/**
 * A native cipher for a 64-byte XTS key, or undefined when the addon refuses it (equal halves).
 * The key is copied for the addon and the copy wiped; the caller's bytes are left to the caller.
 * Generic over the handle type because the mapped-I/O users type the addon's handles their way.
 */
export function nativeCipher<H>(addon: { create(key: Buffer, encrypt: boolean): H }, key: Uint8Array, encrypt: boolean): H | undefined {
  const b = Buffer.from(key);
  try {
    return addon.create(b, encrypt);
  } catch {
    return undefined;
  } finally {
    b.fill(0);
  }
}
