/** Messages between the bulk engine and its worker threads. */
/** Key bytes arrive in ArrayBuffers transferred to the worker (no serialised copy); it zeroes them. */
export interface WorkerInit {
  /** Master key that decrypts the source payload (decrypt, deep rekey). */
  readonly srcKey?: Uint8Array;
  /** Master key that encrypts the destination payload (encrypt, deep rekey). */
  readonly dstKey?: Uint8Array;
}

export type BulkOp = 'encrypt' | 'decrypt' | 'reencrypt';

/**
 * One operation's keys for a keyless worker (XtsPool arms its workers per operation, pool.ts); the
 * buffers are transferred and zeroed by the worker once its ciphers are made.
 */
export interface WorkerArm extends WorkerInit {
  readonly arm: true;
}

/** End of an operation: the worker destroys its ciphers, unmaps, and answers WorkerWiped; it stays up, keyless. */
export interface WorkerWipe {
  readonly wipe: true;
}

/** Answer to WorkerWipe (and to WorkerState): what the worker holds now. */
export interface WorkerWiped {
  readonly wiped: true;
  /** A cipher (key schedule) is alive in this worker. */
  readonly holdsKey: boolean;
  /** File mappings of a copy are alive in this worker. */
  readonly mapped: boolean;
}

/** Asks a worker what it holds (tests: an idle worker holds no key); answered by WorkerWiped with the state. */
export interface WorkerState {
  readonly state: true;
}

/** Sent by XtsPool.close(): the worker wipes its cipher state and exits. */
export interface WorkerClose {
  readonly close: true;
}

/** The worker's last message: its cipher scratch memory was wiped and it is about to exit. */
export interface WorkerClosed {
  readonly closed: true;
}

/** The files of a mapped copy (bulk/copy-map.ts): the worker maps them itself (threads share the fds). */
export interface CopyTarget {
  /** One number per runBulk call: a worker's mappings are reused only within their run. */
  readonly run: number;
  readonly srcFd: number;
  readonly srcBase: number;
  readonly dstFd: number;
  readonly dstBase: number;
  /** Payload bytes: both mapped ranges. */
  readonly length: number;
  readonly holesInSource: boolean;
}

export interface WorkerJob {
  readonly id: number;
  readonly op: BulkOp;
  /** Mapped I/O: convert [sector·512, +length) of the payload between these files; data is then empty. */
  readonly copy?: CopyTarget;
  /** Transferred, not copied; comes back in the reply. */
  readonly data: ArrayBuffer;
  readonly length: number;
  /** Payload sector number of the first byte (plain64 tweak). */
  readonly sector: number;
}

export interface WorkerReply {
  readonly id: number;
  readonly data: ArrayBuffer;
  readonly length: number;
  /** decrypt only: the plaintext is all zeros (the engine leaves a hole). Mapped: nothing was written. */
  readonly zero: boolean;
  /** Mapped job: the files could not be mapped; nothing was done, the engine takes the pread path. */
  readonly unmapped?: boolean;
  readonly error?: string;
  /** errno name of a mapped job's I/O error (ENOSPC, EIO …). */
  readonly code?: string;
}
