import { CryptographicUsageMask } from '../../kmip/enums.js';
import { decodeMacRequest, encodeMacResponse } from '../../kmip/payloads/mac.js';
import type { OperationHandler } from '../context.js';
import { loadKeyForUse } from '../crypto-services/key-use.js';
import { consumeUsage } from '../crypto-services/usage-limits.js';
import { computeMac, macDigest } from '../crypto-services/mac.js';
import { requiredData, requireKmip12, requireSingleShot } from '../crypto-services/single-shot.js';

/** MAC (KMIP 1.4 §4.33): HMAC-SHA1/224/256/384/512 under an Active key with the MAC Generate usage bit. */
export const handleMac: OperationHandler = async (ctx, payload) => {
  const req = decodeMacRequest(payload);
  requireKmip12(ctx.version, 'MAC');
  requireSingleShot(req, 'MAC');
  const data = requiredData(req.data, 'MAC');
  const key = await loadKeyForUse(ctx, req.uniqueIdentifier, { use: 'protect', mask: CryptographicUsageMask.MacGenerate, operation: 'MAC' });
  try {
    await consumeUsage(ctx, key.object, data.length, 'MAC');
    const mac = computeMac(macDigest(key.algorithm, req.cryptographicParameters ?? key.parameters), key.material, data);
    return { objectId: key.id, payload: encodeMacResponse({ uniqueIdentifier: key.id, macData: mac }) };
  } finally {
    key.material.fill(0);
  }
};
