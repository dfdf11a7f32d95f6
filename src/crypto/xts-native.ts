import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const ADDON = join('build', 'Release', 'vmcrypt_xts.node');

function packageRoot(): string {
  // src/crypto/xts-native.ts (tsx) or dist/crypto/xts-native.js (built): two levels below the root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

let loaded: { addon: NativeXts | undefined; reason: string } | undefined;

/**
 * Loads the addon once per thread. Absent (not built: no compiler at install time) or disabled with
 * VMCRYPT_XTS=wasm, the XTS code falls back to the WebAssembly kernel; the reason says which.
 */
export function nativeXts(): { addon: NativeXts | undefined; reason: string } {
  if (loaded !== undefined) return loaded;
  const path = join(packageRoot(), ADDON);
  if (process.env['VMCRYPT_XTS'] === 'wasm') loaded = { addon: undefined, reason: 'disabled by VMCRYPT_XTS=wasm' };
  else if (!existsSync(path)) loaded = { addon: undefined, reason: `${ADDON} not built (npm run build:native)` };
  else {
    try {
      loaded = { addon: createRequire(import.meta.url)(path) as NativeXts, reason: 'loaded' };
    } catch (err) {
      loaded = { addon: undefined, reason: `cannot load ${ADDON}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return loaded;
}
