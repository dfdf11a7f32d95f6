import { QueryFunction } from '../../kmip/enums.js';
import { supportedObjectTypes } from '../../kmip/objects/object-content.js';
import { decodeQueryRequest, encodeQueryResponse } from '../../kmip/payloads/query.js';
import type { OperationHandler } from '../context.js';

export const VENDOR_IDENTIFICATION = 'vmcrypt';

/**
 * Query (KMIP 1.4 §4.25): the operations of the handler table and the object types Register/Get
 * serve, so a client never learns of a capability the server lacks; other functions answer nothing.
 */
export function makeQueryHandler(supportedOperations: () => readonly number[]): OperationHandler {
  return async (_ctx, payload) => {
    const req = decodeQueryRequest(payload);
    const q = new Set(req.queryFunctions);
    return {
      payload: encodeQueryResponse({
        operations: q.has(QueryFunction.QueryOperations) ? supportedOperations() : [],
        objectTypes: q.has(QueryFunction.QueryObjects) ? supportedObjectTypes : [],
        ...(q.has(QueryFunction.QueryServerInformation) ? { vendorIdentification: VENDOR_IDENTIFICATION } : {}),
      }),
    };
  };
}

