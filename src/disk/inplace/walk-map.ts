// The mapped I/O of an in-place walk worker (native/xts-map.c): the walk's file range mapped once,
// each window converted straight from its source bytes to its destination bytes — no pread/pwrite
// copies through the kernel. Used when the native addon has it and takes the keys; otherwise (and
// with VMCRYPT_WALK_IO=pread) the worker reads, converts and writes through a buffer as before.
import { nativeCipher, nativeXts } from '../../crypto/xts-native.js';

type Handle = { readonly __brand: 'XtsHandle' };
interface MapAddon {
  create(key: Buffer, encrypt: boolean): Handle;
  destroy(h: Handle): void;
  mapFile(fd: number, offset: number, length: number): Handle | undefined;
  unmapFile(m: Handle): void;
  convertMapped(m: Handle, src: number, dst: number, len: number, dec: Handle | null, enc: Handle | null, firstSector: number, holes: boolean): boolean;
}

function mapAddon(): MapAddon | undefined {
  if (process.env['VMCRYPT_WALK_IO'] === 'pread') return undefined;
  const { addon } = nativeXts();
  const a = addon as unknown as Partial<MapAddon> | undefined;
  return typeof a?.mapFile === 'function' && typeof a.convertMapped === 'function' ? (a as MapAddon) : undefined;
}

export class MappedWindows {
  readonly #a: MapAddon;
  readonly #map: Handle;
  readonly #dec: Handle | null;
  readonly #enc: Handle | null;

  private constructor(a: MapAddon, map: Handle, dec: Handle | null, enc: Handle | null) {
    this.#a = a;
    this.#map = map;
    this.#dec = dec;
    this.#enc = enc;
  }

  /**
   * Maps [start, end) of the file (which must lie inside it) with ciphers for the keys given, or
   * undefined when mapped I/O is not available here: the caller then uses pread/pwrite.
   */
  static open(fd: number, start: number, end: number, srcKey: Uint8Array | undefined, dstKey: Uint8Array | undefined): MappedWindows | undefined {
    const a = mapAddon();
    if (a === undefined || end <= start) return undefined;
    const dec = srcKey === undefined ? null : nativeCipher(a, srcKey, false);
    const enc = dstKey === undefined ? null : nativeCipher(a, dstKey, true);
    const map = dec !== undefined && enc !== undefined ? a.mapFile(fd, start, end - start) : undefined;
    if (map === undefined || dec === undefined || enc === undefined) {
      for (const h of [dec, enc]) if (h) a.destroy(h);
      return undefined;
    }
    return new MappedWindows(a, map, dec, enc);
  }

  /** Converts len bytes at file offset src into file offset dst; false when `holes` and the source was all zeros (copied as zeros). */
  convert(src: number, dst: number, len: number, firstSector: number, holes: boolean): boolean {
    return this.#a.convertMapped(this.#map, src, dst, len, this.#dec, this.#enc, firstSector, holes);
  }

  /** Unmaps and wipes the key schedules. */
  close(): void {
    this.#a.unmapFile(this.#map);
    for (const h of [this.#dec, this.#enc]) if (h !== null) this.#a.destroy(h);
  }
}
