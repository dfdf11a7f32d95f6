/** Public entry of the KMIP client: connection, promise API, batch calls, health check. */
export { KmipClient, DEFAULT_PROTOCOL_VERSION, type KmipClientOptions, type BatchOptions } from './client.js';
export {
  KmipConnection,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  type KmipConnectionOptions,
} from './connection.js';
export type { KmipTransport, RoundTripOptions } from './transport.js';
export type { TlsIdentity } from './client-credentials.js';
export type { OpCall, BatchOutcome, ResultOf } from './call.js';
export { discoverVersionsCall, queryCall } from './calls/server.js';
export { createKeyCall, getKeyCall, KeyFormat, type CreateKeySpec, type FetchedKey } from './calls/keys.js';
export { activateCall, revokeCall, destroyCall, type RevokeSpec } from './calls/lifecycle.js';
export { getAttributesCall, addAttributeCall, locateCall, type LocateSpec } from './calls/attributes.js';
export { KmipClientError, KmipClientErrorCode, KmipOperationError } from './errors.js';
export {
  checkServerHealth,
  HealthStatus,
  DEFAULT_EXPIRY_WARNING_DAYS,
  type ServerHealth,
  type PeerCertificateSummary,
  type HealthCheckOptions,
} from './health.js';
export { attributeRecord, type PlainValue } from './attribute-values.js';
