import { Operation } from '../../operation-codes.js';
import { QueryFunction } from '../../enums.js';
import { supportedVersions, type ProtocolVersion } from '../../message/protocol-version.js';
import { decodeDiscoverVersionsResponse, encodeDiscoverVersionsRequest } from '../../payloads/discover-versions.js';
import { decodeQueryResponse, encodeQueryRequest, type QueryResponse } from '../../payloads/query.js';
import type { OpCall } from '../call.js';

/** Discover Versions (KMIP 1.1 §4.26): the versions we offer, newest first; the server answers its subset. */
export function discoverVersionsCall(offer: readonly ProtocolVersion[] = supportedVersions): OpCall<ProtocolVersion[]> {
  return {
    operation: Operation.DiscoverVersions,
    name: 'DiscoverVersions',
    payload: encodeDiscoverVersionsRequest({ versions: offer }),
    decode: (p) => [...decodeDiscoverVersionsResponse(p).versions],
  };
}

/** Query (KMIP 1.1 §4.25); by default the supported operations and object types. */
export function queryCall(
  functions: readonly number[] = [QueryFunction.QueryOperations, QueryFunction.QueryObjects],
): OpCall<QueryResponse> {
  return {
    operation: Operation.Query,
    name: 'Query',
    payload: encodeQueryRequest({ queryFunctions: functions }),
    decode: (p) => decodeQueryResponse(p),
  };
}
