import { AttributeName } from '../../kmip/attributes.js';
import { State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeDestroyRequest, encodeDestroyResponse } from '../../kmip/payloads/destroy.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import type { OperationHandler } from '../context.js';
import { firstValue, setSingle, stateOf } from '../managed-object.js';
import { updateOwned } from '../object-access.js';
import { digestAttribute } from './get-attributes.js';

/**
 * Destroy (KMIP 1.1 §4.21): only when not Active. The sealed key material is deleted; the object's
 * metadata stays, in state Destroyed (or Destroyed Compromised) with a Destroy Date (§3.22) and
 * its Digest (§3.17), kept from the content before it goes.
 */
export const handleDestroy: OperationHandler = async (ctx, payload) => {
  const req = decodeDestroyRequest(payload);
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    const state = stateOf(o.attributes);
    if (state === State.Active) throw new KmipError('KMIP_PERMISSION_DENIED', `object ${o.record.id} is Active; revoke it first`);
    if (state === State.Destroyed || state === State.DestroyedCompromised) {
      throw new KmipError('KMIP_PERMISSION_DENIED', `object ${o.record.id} is already destroyed`);
    }
    const next = state === State.Compromised ? State.DestroyedCompromised : State.Destroyed;
    setSingle(o.attributes, AttributeName.State, ttlv.enumeration(Tag.AttributeValue, next));
    setSingle(o.attributes, AttributeName.DestroyDate, ttlv.date(Tag.AttributeValue, ctx.deps.now()));
    // The Digest (§3.17) is metadata and stays: computed from the content while it still exists.
    const digest = firstValue(o.attributes, AttributeName.Digest) === undefined ? digestAttribute(ctx, o) : undefined;
    if (digest !== undefined) o.attributes.push(digest);
    return { sealedKey: null };
  });
  return { objectId: obj.record.id, payload: encodeDestroyResponse({ uniqueIdentifier: obj.record.id }) };
};
