import { VmcryptError } from '../errors.js';

/** Stable codes of the child-process supervisor; callers usually wrap them in their own component's code. */
export const ProcessErrorCode = {
  /** The command (or a launcher it needs: setpriv, prlimit, stdbuf) could not be executed. */
  START_FAILED: 'PROC_START_FAILED',
  /** The ready check did not pass in time. */
  NOT_READY: 'PROC_NOT_READY',
  /** The child exited before its ready check passed. */
  EXITED: 'PROC_EXITED',
  /** A run-to-completion child ended with a non-zero status. */
  FAILED: 'PROC_FAILED',
} as const;
export type ProcessErrorCode = (typeof ProcessErrorCode)[keyof typeof ProcessErrorCode];

export class ProcessError extends VmcryptError {
  declare readonly code: ProcessErrorCode;
  /** The end of what the child wrote (stdout + stderr), already part of the message. */
  readonly outputTail: string;

  constructor(code: ProcessErrorCode, message: string, outputTail = '', options?: { cause?: unknown }) {
    super(code, outputTail === '' ? message : `${message}:\n${outputTail}`, options);
    this.outputTail = outputTail;
  }
}
