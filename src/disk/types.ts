/** Progress of a bulk operation; the CLI turns it into a bar with rate and ETA. */
export interface DiskProgress {
  /** rollback: an in-place --abort walking the data back. */
  readonly phase: 'encrypt' | 'decrypt' | 'rekey' | 'rollback';
  /** Payload bytes processed so far (holes included; for a resumed in-place run, earlier runs too). */
  readonly doneBytes: number;
  readonly totalBytes: number;
  /** In place only: the payload byte offset the walk has made durable (it moves down for encrypt and a rekey to a larger offset). */
  readonly position?: number;
  readonly direction?: 'down' | 'up';
}
export type ProgressFn = (p: DiskProgress) => void;
/** Human-readable notices (e.g. "removed stale temporary file …"). */
export type NoticeFn = (message: string) => void;

export interface KeyslotInfo {
  readonly index: number;
  readonly active: boolean;
  readonly iterations: number;
  readonly keyMaterialOffsetSectors: number;
  readonly stripes: number;
}

/** `vmcrypt disk info --json` prints exactly this (no key material). */
export interface DiskInfo {
  readonly path: string;
  readonly format: 'luks1';
  readonly cipher: string;
  readonly hash: string;
  readonly masterKeyBits: number;
  readonly uuid: string;
  readonly payloadOffsetBytes: number;
  /** What the guest sees: file size minus the payload offset. */
  readonly virtualSizeBytes: number;
  readonly fileSizeBytes: number;
  /** Bytes the file really occupies (sparse files use less). */
  readonly allocatedBytes: number;
  readonly mkDigestIterations: number;
  readonly keyslots: readonly KeyslotInfo[];
}

export interface BulkResult {
  /** Payload bytes processed. */
  readonly bytes: number;
  /** Chunks left as holes (never written) in the output. */
  readonly holeBytes: number;
  readonly seconds: number;
}

export interface CreateDiskOptions {
  readonly path: string;
  readonly sizeBytes: number;
  /** The keyslot passphrase is the 64-char hex of this DEK (what QEMU gets as its secret). */
  readonly dek: Buffer;
  /** PBKDF2-SHA256 iterations of the keyslot (default DEFAULT_KEYSLOT_ITERATIONS). */
  readonly iterations?: number;
}

export interface EncryptDiskOptions {
  readonly src: string;
  readonly dst: string;
  readonly dek: Buffer;
  readonly iterations?: number;
  readonly onProgress?: ProgressFn;
  readonly onNotice?: NoticeFn;
}

export interface DecryptDiskOptions {
  readonly src: string;
  readonly dst: string;
  readonly dek: Buffer;
  readonly onProgress?: ProgressFn;
  readonly onNotice?: NoticeFn;
}

export interface RekeyDiskOptions {
  readonly path: string;
  readonly oldDek: Buffer;
  readonly newDek: Buffer;
  /** shallow: new keyslot passphrase only (O(1)); deep: new master key, all data rewritten. */
  readonly mode: 'shallow' | 'deep';
  readonly iterations?: number;
  readonly onProgress?: ProgressFn;
  readonly onNotice?: NoticeFn;
}

export interface CloneDiskOptions {
  readonly src: string;
  readonly dst: string;
  /** Opens src. */
  readonly oldDek: Buffer;
  /** Keyslot passphrase of the clone; a fresh master key is generated. */
  readonly newDek: Buffer;
  readonly iterations?: number;
  readonly onProgress?: ProgressFn;
  readonly onNotice?: NoticeFn;
}

/** encrypt/decrypt/deep rekey of one file in place (no second copy); rerunning resumes, abort rolls back. */
export interface InPlaceOptions {
  readonly path: string;
  /** Roll back an interrupted in-place operation instead of finishing it. */
  readonly abort?: boolean;
  readonly iterations?: number;
  readonly onProgress?: ProgressFn;
  readonly onNotice?: NoticeFn;
}

export interface EncryptInPlaceOptions extends InPlaceOptions {
  readonly dek: Buffer;
}
export type DecryptInPlaceOptions = EncryptInPlaceOptions;

export interface RekeyInPlaceOptions extends InPlaceOptions {
  readonly oldDek: Buffer;
  readonly newDek: Buffer;
}

export interface InPlaceResult extends BulkResult {
  /** This run continued an interrupted one. */
  readonly resumed: boolean;
  /** This run rolled the operation back (--abort): the file is as before it started. */
  readonly aborted: boolean;
  /** Payload offset of the file now (0 for raw). */
  readonly payloadOffsetBytes: number;
}
