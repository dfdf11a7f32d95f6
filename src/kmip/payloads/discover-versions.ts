import { decodeProtocolVersion, encodeProtocolVersion, type ProtocolVersion } from '../message/protocol-version.js';
import { Tag } from '../tags.js';
import type { TtlvItem } from '../ttlv/index.js';
import { payloadFields, requestPayload, responsePayload } from './payload.js';

/** Discover Versions (KMIP 1.4 §4.26): versions the client offers / the server accepts, preferred first. */
export interface DiscoverVersionsRequest {
  readonly versions: readonly ProtocolVersion[];
}

export interface DiscoverVersionsResponse {
  readonly versions: readonly ProtocolVersion[];
}

export function encodeDiscoverVersionsRequest(r: DiscoverVersionsRequest): TtlvItem {
  return requestPayload(r.versions.map(encodeProtocolVersion));
}

export function decodeDiscoverVersionsRequest(item: TtlvItem | undefined): DiscoverVersionsRequest {
  const f = payloadFields(item);
  return { versions: f.items.filter((i) => i.tag === Tag.ProtocolVersion).map(decodeProtocolVersion) };
}

export function encodeDiscoverVersionsResponse(r: DiscoverVersionsResponse): TtlvItem {
  return responsePayload(r.versions.map(encodeProtocolVersion));
}

export function decodeDiscoverVersionsResponse(item: TtlvItem | undefined): DiscoverVersionsResponse {
  const f = payloadFields(item);
  return { versions: f.items.filter((i) => i.tag === Tag.ProtocolVersion).map(decodeProtocolVersion) };
}
