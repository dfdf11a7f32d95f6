/** Key management of the manager: key providers, KEKs, key push, unlock, crypto-safe hosts. */
export { createKeyService, providerUse, type KeyManagement, type KeyServiceDeps } from './key-service.js';
export { keyRoutes } from './key-routes.js';
export { KEY_MIGRATIONS } from './schema.js';
export type { KeyServiceOptions } from './context.js';
export type { KeyStatus, KeyUse } from './key-status.js';
export type { UnlockResult } from './unlock.js';
export type { ProviderView } from './provider-admin.js';
export { MANAGER_ATTRIBUTE, ENTITY_ATTRIBUTE } from './kek-create.js';
