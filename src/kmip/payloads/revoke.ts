import { Tag } from '../tags.js';
import { Fields, ttlv, type TtlvItem } from '../ttlv/index.js';
import { optionalUid, payloadFields, requestPayload } from './payload.js';
import { decodeUidResponse, encodeUidResponse, type UidResponse } from './uid-only.js';

/** Revocation Reason (KMIP 1.4 §3.31). */
export interface RevocationReason {
  readonly code: number;
  readonly message?: string;
}

/** Revoke (KMIP 1.4 §4.20). */
export interface RevokeRequest {
  readonly uniqueIdentifier?: string;
  readonly revocationReason: RevocationReason;
  readonly compromiseOccurrenceDate?: bigint;
}

export type RevokeResponse = UidResponse;

export function encodeRevocationReason(r: RevocationReason, tag: number = Tag.RevocationReason): TtlvItem {
  return ttlv.struct(tag, [
    ttlv.enumeration(Tag.RevocationReasonCode, r.code),
    ttlv.opt(r.message, (m) => ttlv.text(Tag.RevocationMessage, m)),
  ]);
}

export function decodeRevocationReason(item: TtlvItem): RevocationReason {
  const f = new Fields(item);
  const message = f.optional(Tag.RevocationMessage, 'TextString');
  return { code: f.required(Tag.RevocationReasonCode, 'Enumeration'), ...(message === undefined ? {} : { message }) };
}

export function encodeRevokeRequest(r: RevokeRequest): TtlvItem {
  return requestPayload([
    optionalUid(r.uniqueIdentifier),
    encodeRevocationReason(r.revocationReason),
    ttlv.opt(r.compromiseOccurrenceDate, (d) => ttlv.date(Tag.CompromiseOccurrenceDate, d)),
  ]);
}

export function decodeRevokeRequest(item: TtlvItem | undefined): RevokeRequest {
  const f = payloadFields(item);
  const uid = f.optional(Tag.UniqueIdentifier, 'TextString');
  const reason = f.requiredStruct(Tag.RevocationReason);
  const cod = f.optional(Tag.CompromiseOccurrenceDate, 'DateTime');
  const message = reason.optional(Tag.RevocationMessage, 'TextString');
  return {
    ...(uid === undefined ? {} : { uniqueIdentifier: uid }),
    revocationReason: {
      code: reason.required(Tag.RevocationReasonCode, 'Enumeration'),
      ...(message === undefined ? {} : { message }),
    },
    ...(cod === undefined ? {} : { compromiseOccurrenceDate: cod }),
  };
}

export const encodeRevokeResponse = encodeUidResponse;
export const decodeRevokeResponse = decodeUidResponse;
