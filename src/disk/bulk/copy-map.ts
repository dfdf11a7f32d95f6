// The mapped I/O of a copy-mode worker (native/xts-copy.c): the source file's payload mapped
// read-only, the new file's payload mapped shared, each chunk converted straight from source pages
// to destination pages (its range fallocated first, so a full filesystem fails with ENOSPC as
// pwrite would). Used when the native addon has it and takes the keys; otherwise (and with
// VMCRYPT_COPY_IO=pread) the engine reads, the worker converts a buffer, the engine writes.
import { nativeCipher, nativeXts } from '../../crypto/xts-native.js';
import type { BulkOp, CopyTarget } from './protocol.js';

type Handle = { readonly __brand: 'XtsHandle' };
interface CopyAddon {
  create(key: Buffer, encrypt: boolean): Handle;
  destroy(h: Handle): void;
  mapFile(fd: number, offset: number, length: number, readOnly: boolean): Handle | undefined;
  unmapFile(m: Handle): void;
  convertCopy(srcMap: Handle, src: number, dstMap: Handle, dst: number, len: number, dec: Handle | null, enc: Handle | null, firstSector: number, flags: number, dstFd: number): boolean;
}

/** Flags of convertCopy (native/xts-copy.c). */
const SOURCE_HOLES = 1;
const ZERO_HOLES = 2;
const ALLOCATE = 4;
const POPULATE = 8;
const RELEASE = 16;

function copyAddon(): CopyAddon | undefined {
  if (process.env['VMCRYPT_COPY_IO'] === 'pread') return undefined;
  const a = nativeXts().addon as unknown as Partial<CopyAddon> | undefined;
  return typeof a?.mapFile === 'function' && typeof a.convertCopy === 'function' ? (a as CopyAddon) : undefined;
}

/** Whether the copy modes can use mapped I/O in this process (the workers load the same addon). */
export function copyMappedAvailable(): boolean {
  return copyAddon() !== undefined;
}

/** The native ciphers of one worker; null when mapped I/O is not available or a key was refused. */
export class CopyCiphers {
  readonly #a: CopyAddon;
  readonly #dec: Handle | null;
  readonly #enc: Handle | null;
  #maps: { key: string; src: Handle; dst: Handle } | undefined;

  private constructor(a: CopyAddon, dec: Handle | null, enc: Handle | null) {
    this.#a = a;
    this.#dec = dec;
    this.#enc = enc;
  }

  static create(srcKey: Uint8Array | undefined, dstKey: Uint8Array | undefined): CopyCiphers | undefined {
    const a = copyAddon();
    if (a === undefined) return undefined;
    const dec = srcKey === undefined ? null : nativeCipher(a, srcKey, false);
    const enc = dstKey === undefined ? null : nativeCipher(a, dstKey, true);
    if (dec === undefined || enc === undefined) {
      for (const h of [dec, enc]) if (h) a.destroy(h);
      return undefined;
    }
    return new CopyCiphers(a, dec, enc);
  }

  /**
   * Converts [off, off + len) of the payload from the source to the new file: 'written', 'hole'
   * (nothing written) or 'unmapped' (a file could not be mapped: the caller takes the pread path).
   */
  convert(op: BulkOp, t: CopyTarget, off: number, len: number): 'written' | 'hole' | 'unmapped' {
    const maps = this.#mapsFor(t);
    if (maps === undefined) return 'unmapped';
    const dec = op === 'encrypt' ? null : this.#dec;
    const enc = op === 'decrypt' ? null : this.#enc;
    if ((op !== 'encrypt' && dec === null) || (op !== 'decrypt' && enc === null)) throw new Error(`no key for ${op}`);
    const flags = (t.holesInSource ? SOURCE_HOLES : 0) | (op === 'decrypt' ? ZERO_HOLES : 0) | ALLOCATE | POPULATE | RELEASE;
    const wrote = this.#a.convertCopy(maps.src, t.srcBase + off, maps.dst, t.dstBase + off, len, dec, enc, off / 512, flags, t.dstFd);
    return wrote ? 'written' : 'hole';
  }

  #mapsFor(t: CopyTarget): { src: Handle; dst: Handle } | undefined {
    const key = `${t.run}:${t.srcFd}:${t.dstFd}`;
    if (this.#maps?.key === key) return this.#maps;
    this.unmap();
    const src = this.#a.mapFile(t.srcFd, t.srcBase, t.length, true);
    const dst = src === undefined ? undefined : this.#a.mapFile(t.dstFd, t.dstBase, t.length, false);
    if (src === undefined || dst === undefined) {
      if (src !== undefined) this.#a.unmapFile(src);
      return undefined;
    }
    this.#maps = { key, src, dst };
    return this.#maps;
  }

  /** Whether a native key schedule is alive here. */
  get holdsKey(): boolean {
    return this.#dec !== null || this.#enc !== null;
  }

  /** Whether the files of a run are mapped now. */
  get mapped(): boolean {
    return this.#maps !== undefined;
  }

  /** Drops the mappings of the last run (the next job maps its own). */
  unmap(): void {
    if (this.#maps === undefined) return;
    this.#a.unmapFile(this.#maps.src);
    this.#a.unmapFile(this.#maps.dst);
    this.#maps = undefined;
  }

  /** Unmaps and wipes the key schedules. */
  destroy(): void {
    this.unmap();
    for (const h of [this.#dec, this.#enc]) if (h !== null) this.#a.destroy(h);
  }
}
