import { CryptographicUsageMask, ValidityIndicator } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeMacVerifyRequest, encodeVerifyResponse } from '../../kmip/payloads/mac-verify.js';
import type { OperationHandler } from '../context.js';
import { loadKeyForUse } from '../crypto-services/key-use.js';
import { macDigest, macMatches } from '../crypto-services/mac.js';
import { requiredData, requireKmip12, requireSingleShot } from '../crypto-services/single-shot.js';

/** MAC Verify (KMIP 1.4 §4.34): Valid or Invalid (constant-time compare); the key needs the MAC Verify usage bit. */
export const handleMacVerify: OperationHandler = async (ctx, payload) => {
  const req = decodeMacVerifyRequest(payload);
  requireKmip12(ctx.version, 'MAC Verify');
  requireSingleShot(req, 'MAC Verify');
  const data = requiredData(req.data, 'MAC Verify');
  if (req.macData === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'MAC Verify needs MAC Data');
  const key = await loadKeyForUse(ctx, req.uniqueIdentifier, { use: 'process', mask: CryptographicUsageMask.MacVerify, operation: 'MAC Verify' });
  try {
    const ok = macMatches(macDigest(key.algorithm, req.cryptographicParameters ?? key.parameters), key.material, data, req.macData);
    return { objectId: key.id, payload: encodeVerifyResponse({ uniqueIdentifier: key.id, validityIndicator: ok ? ValidityIndicator.Valid : ValidityIndicator.Invalid }) };
  } finally {
    key.material.fill(0);
  }
};
