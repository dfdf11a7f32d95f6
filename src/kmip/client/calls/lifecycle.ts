import { RevocationReasonCode } from '../../enums.js';
import { Operation } from '../../operation-codes.js';
import { decodeActivateResponse, encodeActivateRequest } from '../../payloads/activate.js';
import { decodeDestroyResponse, encodeDestroyRequest } from '../../payloads/destroy.js';
import { decodeRevokeResponse, encodeRevokeRequest } from '../../payloads/revoke.js';
import type { OpCall } from '../call.js';

const uidOnly = (uid: string | undefined): { uniqueIdentifier?: string } => (uid === undefined ? {} : { uniqueIdentifier: uid });

/** Activate (KMIP 1.1 §4.19): Pre-Active → Active. `uid` undefined = ID Placeholder. */
export function activateCall(uid?: string): OpCall<string> {
  return {
    operation: Operation.Activate,
    name: 'Activate',
    payload: encodeActivateRequest(uidOnly(uid)),
    decode: (p) => decodeActivateResponse(p).uniqueIdentifier,
  };
}

export interface RevokeSpec {
  /** Revocation Reason Code (§9.1.3.2.19). Default Cessation Of Operation. */
  readonly reason?: number;
  readonly message?: string;
  /** Required by KMIP for Key Compromise / CA Compromise. */
  readonly compromiseOccurrenceDate?: Date;
}

/** Revoke (KMIP 1.1 §4.20): Active → Deactivated (or Compromised). */
export function revokeCall(uid: string | undefined, spec: RevokeSpec = {}): OpCall<string> {
  return {
    operation: Operation.Revoke,
    name: 'Revoke',
    payload: encodeRevokeRequest({
      ...uidOnly(uid),
      revocationReason: {
        code: spec.reason ?? RevocationReasonCode.CessationOfOperation,
        ...(spec.message === undefined ? {} : { message: spec.message }),
      },
      ...(spec.compromiseOccurrenceDate === undefined
        ? {}
        : { compromiseOccurrenceDate: BigInt(Math.floor(spec.compromiseOccurrenceDate.getTime() / 1000)) }),
    }),
    decode: (p) => decodeRevokeResponse(p).uniqueIdentifier,
  };
}

/** Destroy (KMIP 1.1 §4.21): the key material is gone; only allowed when not Active. */
export function destroyCall(uid?: string): OpCall<string> {
  return {
    operation: Operation.Destroy,
    name: 'Destroy',
    payload: encodeDestroyRequest(uidOnly(uid)),
    decode: (p) => decodeDestroyResponse(p).uniqueIdentifier,
  };
}
