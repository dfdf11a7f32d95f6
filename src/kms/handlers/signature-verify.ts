import { CryptographicUsageMask, ObjectType, ValidityIndicator } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { encodeVerifyResponse } from '../../kmip/payloads/mac-verify.js';
import { decodeSignatureVerifyRequest } from '../../kmip/payloads/signature-verify.js';
import type { OperationHandler } from '../context.js';
import { signatureScheme, verifyData } from '../crypto-services/asymmetric.js';
import { loadKeyForUse } from '../crypto-services/key-use.js';
import { requiredData, requireKmip12, requireSingleShot } from '../crypto-services/single-shot.js';

/** Signature Verify (KMIP 1.4 §4.32): Valid or Invalid, with a public key carrying the Verify usage bit. */
export const handleSignatureVerify: OperationHandler = async (ctx, payload) => {
  const req = decodeSignatureVerifyRequest(payload);
  requireKmip12(ctx.version, 'Signature Verify');
  requireSingleShot(req, 'Signature Verify');
  if (req.digestedData !== undefined) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Signature Verify of Digested Data is not supported; send the Data');
  const data = requiredData(req.data, 'Signature Verify');
  if (req.signatureData === undefined) throw new KmipError('KMIP_INVALID_FIELD', 'Signature Verify needs Signature Data');
  const key = await loadKeyForUse(ctx, req.uniqueIdentifier, { use: 'process', mask: CryptographicUsageMask.Verify, operation: 'Signature Verify', objectTypes: [ObjectType.PublicKey] });
  if (key.keyObject === undefined) throw new KmipError('KMIP_GENERAL_FAILURE', 'the public key did not load');
  const valid = verifyData(key.keyObject, signatureScheme(key.keyObject, req.cryptographicParameters ?? key.parameters ?? {}), data, req.signatureData);
  return { objectId: key.id, payload: encodeVerifyResponse({ uniqueIdentifier: key.id, validityIndicator: valid ? ValidityIndicator.Valid : ValidityIndicator.Invalid }) };
};
