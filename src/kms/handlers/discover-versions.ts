import { supportedVersions } from '../../kmip/message/protocol-version.js';
import { decodeDiscoverVersionsRequest, encodeDiscoverVersionsResponse } from '../../kmip/payloads/discover-versions.js';
import type { OperationHandler } from '../context.js';

/**
 * Discover Versions (KMIP 1.1 §4.26): with no versions in the request, every version the server
 * speaks (newest first); otherwise the client's versions that the server speaks, in the client's order.
 */
export const handleDiscoverVersions: OperationHandler = async (_ctx, payload) => {
  const req = decodeDiscoverVersionsRequest(payload);
  const versions =
    req.versions.length === 0
      ? supportedVersions
      : req.versions.filter((v) => supportedVersions.some((s) => s.major === v.major && s.minor === v.minor));
  return { payload: encodeDiscoverVersionsResponse({ versions }) };
};
