import type { FileHandle } from 'node:fs/promises';
import type { Marker } from './marker.js';
import type { Sidecar } from './sidecar.js';

/** Master keys of an in-place run: a opens the source payload, b the destination. Zeroed by the driver. */
export interface MasterKeys {
  a?: Buffer | undefined;
  b?: Buffer | undefined;
}

/** DEKs as given by the caller: a for the source keyslot (decrypt, rekey), b for the destination (encrypt, rekey). */
export interface Deks {
  readonly a?: Buffer | undefined;
  readonly b?: Buffer | undefined;
}

export interface StartInput {
  readonly fh: FileHandle;
  readonly path: string;
  readonly opId: string;
  readonly deks: Deks;
  readonly iterations: number;
}

export interface Started {
  readonly sc: Sidecar;
  readonly m: Marker;
  readonly keys: MasterKeys;
}
