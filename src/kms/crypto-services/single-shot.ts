import { KmipError } from '../../kmip/errors.js';

/** The streaming fields of Encrypt, Decrypt, Sign, Signature Verify, MAC and MAC Verify (KMIP 1.4 §4.29–4.34). */
export interface StreamingFields {
  readonly correlationValue?: Buffer;
  readonly initIndicator?: boolean;
  readonly finalIndicator?: boolean;
}

/**
 * vmcrypt serves each of these operations in one request (up to 1 MiB of data): a multi-part
 * stream (Correlation Value, or an Init without a Final Indicator) is Feature Not Supported, so a
 * client never mistakes a partial result for a whole one. Init and Final both true is one shot.
 */
export function requireSingleShot(r: StreamingFields, operation: string): void {
  const partial = r.correlationValue !== undefined || (r.initIndicator === true && r.finalIndicator !== true) || r.finalIndicator === false;
  if (partial) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', `${operation}: multi-part (streaming) requests are not supported; send the data in one request`);
}

/** The Data of a request; Invalid Field when absent. */
export function requiredData(data: Buffer | undefined, operation: string): Buffer {
  if (data === undefined) throw new KmipError('KMIP_INVALID_FIELD', `${operation} needs Data`);
  return data;
}

/** Encrypt, Decrypt, Sign, Signature Verify, MAC and MAC Verify are KMIP 1.2 operations: an older request gets Operation Not Supported. */
export function requireKmip12(version: { readonly major: number; readonly minor: number }, operation: string): void {
  if (version.major === 1 && version.minor < 2) {
    throw new KmipError('KMIP_OPERATION_NOT_SUPPORTED', `${operation} is a KMIP 1.2 operation; this request is KMIP ${version.major}.${version.minor}`);
  }
}
