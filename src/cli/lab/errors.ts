import { VmcryptError } from '../../errors.js';

/** Stable codes of the lab (`vmcrypt lab …`, restartLabHost); docs/lab.md lists them. */
export const LabErrorCode = {
  /** A component (KMS, manager, host agent) did not start or did not become ready. */
  START_FAILED: 'LAB_START_FAILED',
  /** Setting the lab up through the manager's API failed (the message names the step). */
  SETUP_FAILED: 'LAB_SETUP_FAILED',
  /** DIR/lab.json is missing, unreadable or not written by vmcrypt. */
  BAD_STATE: 'LAB_BAD_STATE',
  /** No lab is running for this DIR (nothing answers on its control socket). */
  NOT_RUNNING: 'LAB_NOT_RUNNING',
  /** A lab is already running for this DIR. */
  ALREADY_RUNNING: 'LAB_ALREADY_RUNNING',
  /** The running lab refused or failed a control request (unknown host, restart failed). */
  CONTROL_FAILED: 'LAB_CONTROL_FAILED',
  /** The lab was created with other options (single KMS vs cluster) than this run asks for. */
  MODE_MISMATCH: 'LAB_MODE_MISMATCH',
} as const;

export type LabErrorCode = (typeof LabErrorCode)[keyof typeof LabErrorCode];

export class LabError extends VmcryptError {
  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
