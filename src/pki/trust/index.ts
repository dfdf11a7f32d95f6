/** Trust setup of a key provider: the four ways vCenter offers, over a persisted JSON model. */
export { emptyTrust, parseTrust, serializeTrust, ClientIdentitySource, type ProviderTrust, type ClientIdentity, type PendingCsr } from './model.js';
export { trustServerCertificate, untrustServerCertificate } from './server-trust.js';
export {
  acceptClientCertificate,
  startCsr,
  acceptSignedCertificate,
  createSelfSignedIdentity,
  clientCredentials,
  type SealParams,
  type ClientTlsCredentials,
} from './client-identity.js';
export { trustSummary, type TrustSummary } from './summary.js';
