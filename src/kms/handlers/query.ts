import { ObjectType, QueryFunction } from '../../kmip/enums.js';
import { decodeQueryRequest, encodeQueryResponse } from '../../kmip/payloads/query.js';
import type { OperationHandler } from '../context.js';

export const VENDOR_IDENTIFICATION = 'vmcrypt';

/** Query (KMIP 1.1 §4.25): operations, object types and vendor identification; other functions answer nothing. */
export function makeQueryHandler(supportedOperations: () => readonly number[]): OperationHandler {
  return async (_ctx, payload) => {
    const req = decodeQueryRequest(payload);
    const q = new Set(req.queryFunctions);
    return {
      payload: encodeQueryResponse({
        operations: q.has(QueryFunction.QueryOperations) ? supportedOperations() : [],
        objectTypes: q.has(QueryFunction.QueryObjects) ? [ObjectType.SymmetricKey] : [],
        ...(q.has(QueryFunction.QueryServerInformation) ? { vendorIdentification: VENDOR_IDENTIFICATION } : {}),
      }),
    };
  };
}

