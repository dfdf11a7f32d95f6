import type { BulkOp } from '../bulk/protocol.js';
import type { WalkPlan } from './walk-plan.js';

/** Messages between the in-place walk (shift.ts) and its worker threads (walk-worker.ts). */

/** One walk for one worker. Keys arrive in ArrayBuffers transferred to it (no serialised copy); it zeroes them. */
export interface WalkStart {
  readonly start: true;
  /** The disk's file descriptor (threads share the process's descriptors). */
  readonly fd: number;
  readonly plan: WalkPlan;
  readonly op: BulkOp;
  /** An all-zero source window is a never-written LUKS area: it becomes zeros, not ciphertext. */
  readonly sourceHoles: boolean;
  readonly shared: SharedArrayBuffer;
  readonly srcKey?: Uint8Array;
  readonly dstKey?: Uint8Array;
  /** Tests: record every write with the durable count the worker saw before it. */
  readonly trace?: boolean;
  /** 'pread': no mapped I/O (tests of that path; also VMCRYPT_WALK_IO=pread). */
  readonly io?: 'pread';
}

export interface WalkClose {
  readonly close: true;
}

/** A write as the worker saw it: file position, length, windows durable when it passed the gate. */
export type TraceEntry = readonly [pos: number, len: number, durableSeen: number];

export interface WalkDone {
  readonly done: true;
  /** The first failure of this worker; `code` is a DiskError code or an errno code. */
  readonly error?: { readonly message: string; readonly code?: string };
  readonly trace?: TraceEntry[];
}
