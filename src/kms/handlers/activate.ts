import { AttributeName } from '../../kmip/attributes.js';
import { State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeActivateRequest, encodeActivateResponse } from '../../kmip/payloads/activate.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import type { OperationHandler } from '../context.js';
import { setSingle, stateOf } from '../managed-object.js';
import { updateOwned } from '../object-access.js';

/** Activate (KMIP 1.1 §4.19): Pre-Active → Active, Activation Date = now (§3.22 transition 4). */
export const handleActivate: OperationHandler = async (ctx, payload) => {
  const req = decodeActivateRequest(payload);
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    if (stateOf(o.attributes) !== State.PreActive) {
      throw new KmipError('KMIP_PERMISSION_DENIED', `object ${o.record.id} is not in the Pre-Active state`);
    }
    setSingle(o.attributes, AttributeName.State, ttlv.enumeration(Tag.AttributeValue, State.Active));
    setSingle(o.attributes, AttributeName.ActivationDate, ttlv.date(Tag.AttributeValue, ctx.deps.now()));
  });
  return { objectId: obj.record.id, payload: encodeActivateResponse({ uniqueIdentifier: obj.record.id }) };
};
