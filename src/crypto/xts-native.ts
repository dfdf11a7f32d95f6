import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The optional N-API addon (native/xts.c): OpenSSL's AES-256-XTS, IV reset per 512-byte sector. */
export interface NativeXts {
  create(key: Buffer, encrypt: boolean): NativeXtsState;
  crypt(state: NativeXtsState, data: Buffer, firstSector: number, unitBytes: number): void;
  destroy(state: NativeXtsState): void;
}
/** Opaque handle owning an EVP context (the key schedule lives in OpenSSL, cleared on destroy). */
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
