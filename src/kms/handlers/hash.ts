import { createHash } from 'node:crypto';
import { KmipError } from '../../kmip/errors.js';
import { decodeHashRequest, encodeHashResponse } from '../../kmip/payloads/hash.js';
import type { OperationHandler } from '../context.js';
import { digestName } from '../crypto-services/hashes.js';
import { CryptoLimits } from '../crypto-services/limits.js';
import { requiredData, requireSingleShot } from '../crypto-services/single-shot.js';

/** Hash (KMIP 1.3+ §4.38, served on every version): the digest of the Data (SHA-1, SHA-2, SHA-3); no key, no object. One shot. */
export const handleHash: OperationHandler = async (_ctx, payload) => {
  const req = decodeHashRequest(payload);
  requireSingleShot(req, 'Hash');
  const data = requiredData(req.data, 'Hash');
  if (data.length > CryptoLimits.MAX_DATA_BYTES) throw new KmipError('KMIP_INVALID_FIELD', `Data is limited to ${CryptoLimits.MAX_DATA_BYTES} bytes`);
  const digest = digestName(req.cryptographicParameters?.hashingAlgorithm, 'Hash');
  return { payload: encodeHashResponse({ data: createHash(digest).update(data).digest() }) };
};
