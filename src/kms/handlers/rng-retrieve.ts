import { KmipError } from '../../kmip/errors.js';
import { decodeRngRetrieveRequest, encodeRngRetrieveResponse } from '../../kmip/payloads/rng-retrieve.js';
import type { OperationHandler } from '../context.js';

/** The most random bytes one RNG Retrieve returns. */
export const MAX_RNG_BYTES = 64 * 1024;

/**
 * RNG Retrieve (KMIP 1.3+ §4.35, served on every version): Data Length bytes from the key server's generator (OpenSSL's
 * CSPRNG through node:crypto, the one that draws keys). The bytes are zeroed once sent.
 */
export const handleRngRetrieve: OperationHandler = async (ctx, payload) => {
  const req = decodeRngRetrieveRequest(payload);
  if (req.dataLength < 1 || req.dataLength > MAX_RNG_BYTES) throw new KmipError('KMIP_INVALID_FIELD', `Data Length must be 1 to ${MAX_RNG_BYTES}`);
  const data = ctx.deps.randomBytes(req.dataLength);
  return { secrets: [data], payload: encodeRngRetrieveResponse({ data }) };
};
