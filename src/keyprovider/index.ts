/** Public entry of key providers: ordered key servers with failover, site-local order, health. */
export { KeyProvider, CREATE_TAG_PREFIX, type KeyProviderDeps, type ProviderHealth } from './key-provider.js';
export {
  resolveProviderConfig,
  DEFAULT_HUNG_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DOWN_RETRY_MS,
  type KeyProviderConfig,
  type KeyServerConfig,
  type ResolvedKeyProviderConfig,
} from './config.js';
export { siteLocalOrder, type SiteDescription } from './site-order.js';
export { FailureKind, failureKind, DownList, runWithFailover, systemClock, type Clock } from './failover.js';
export { KeyProviderError, KeyProviderErrorCode, type FailedAttempt } from './errors.js';
export { tlsIdentityFromTrust } from './trust.js';
