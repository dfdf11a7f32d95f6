import { AttributeName } from '../../kmip/attributes.js';
import { RevocationReasonCode, State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeRevokeRequest, encodeRevocationReason, encodeRevokeResponse } from '../../kmip/payloads/revoke.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import type { OperationHandler } from '../context.js';
import { setSingle, stateOf } from '../managed-object.js';
import { updateOwned } from '../object-access.js';

/**
 * Revoke (KMIP 1.1 §4.20, lifecycle §3.22). Key/CA Compromise: Pre-Active, Active, Deactivated →
 * Compromised (Compromise Date = now), Destroyed → Destroyed Compromised. Any other reason:
 * Active → Deactivated (Deactivation Date = now); Deactivated stays. Revocation Reason is recorded.
 */
export const handleRevoke: OperationHandler = async (ctx, payload) => {
  const req = decodeRevokeRequest(payload);
  const code = req.revocationReason.code;
  if (!Object.values(RevocationReasonCode).includes(code as never)) {
    throw new KmipError('KMIP_INVALID_FIELD', `unknown Revocation Reason Code ${code}`);
  }
  if (req.revocationReason.message !== undefined && req.revocationReason.message.length > 1024) {
    throw new KmipError('KMIP_INVALID_FIELD', 'Revocation Message longer than 1024 characters');
  }
  const compromise = code === RevocationReasonCode.KeyCompromise || code === RevocationReasonCode.CACompromise;
  const now = ctx.deps.now();
  const V = Tag.AttributeValue;
  const obj = await updateOwned(ctx, req.uniqueIdentifier, (o) => {
    const state = stateOf(o.attributes);
    const set = (name: string, item: ReturnType<typeof ttlv.date>): void => setSingle(o.attributes, name, item);
    if (compromise) {
      if (state === State.Compromised || state === State.DestroyedCompromised) {
        throw new KmipError('KMIP_PERMISSION_DENIED', `object ${o.record.id} is already compromised`);
      }
      set(AttributeName.State, ttlv.enumeration(V, state === State.Destroyed ? State.DestroyedCompromised : State.Compromised));
      set(AttributeName.CompromiseDate, ttlv.date(V, now));
      set(AttributeName.CompromiseOccurrenceDate, ttlv.date(V, req.compromiseOccurrenceDate ?? BigInt(Math.floor(now.getTime() / 1000))));
    } else if (state === State.Active) {
      set(AttributeName.State, ttlv.enumeration(V, State.Deactivated));
      set(AttributeName.DeactivationDate, ttlv.date(V, now));
    } else if (state !== State.Deactivated) {
      throw new KmipError('KMIP_PERMISSION_DENIED', `object ${o.record.id} is not Active; only a compromise can revoke it`);
    }
    set(AttributeName.RevocationReason, encodeRevocationReason(req.revocationReason, V));
  });
  return { objectId: obj.record.id, payload: encodeRevokeResponse({ uniqueIdentifier: obj.record.id }) };
};
