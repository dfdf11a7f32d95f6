import { CryptographicUsageMask, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeSignRequest, encodeSignResponse } from '../../kmip/payloads/sign.js';
import type { OperationHandler } from '../context.js';
import { signatureScheme, signData } from '../crypto-services/asymmetric.js';
import { loadKeyForUse } from '../crypto-services/key-use.js';
import { consumeUsage } from '../crypto-services/usage-limits.js';
import { requiredData, requireKmip12, requireSingleShot } from '../crypto-services/single-shot.js';

/** Sign (KMIP 1.4 §4.31): RSA PKCS#1 v1.5 / PSS or ECDSA with an Active private key carrying the Sign usage bit. */
export const handleSign: OperationHandler = async (ctx, payload) => {
  const req = decodeSignRequest(payload);
  requireKmip12(ctx.version, 'Sign');
  requireSingleShot(req, 'Sign');
  if (req.digestedData !== undefined) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Sign of Digested Data is not supported; send the Data');
  const data = requiredData(req.data, 'Sign');
  const key = await loadKeyForUse(ctx, req.uniqueIdentifier, { use: 'protect', mask: CryptographicUsageMask.Sign, operation: 'Sign', objectTypes: [ObjectType.PrivateKey] });
  if (key.keyObject === undefined) throw new KmipError('KMIP_GENERAL_FAILURE', 'the private key did not load');
  await consumeUsage(ctx, key.object, data.length, 'Sign');
  const signature = signData(key.keyObject, signatureScheme(key.keyObject, req.cryptographicParameters ?? key.parameters ?? {}), data);
  return { objectId: key.id, payload: encodeSignResponse({ uniqueIdentifier: key.id, signatureData: signature }) };
};
