/** JSON schemas of key management's routes: input validation, output shape, OpenAPI. */
const str = (maxLength = 256) => ({ type: 'string', maxLength }) as const;
const PEM = { type: 'string', minLength: 1, maxLength: 65536 } as const;
export const PROVIDER_ID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } as const;
const KEY_ID = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' } as const;
const ID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } as const;
const CN = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' } as const;

export const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: ID } } as const;
export const providerParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: PROVIDER_ID } } as const;
export const keyParams = {
  type: 'object', required: ['providerId', 'keyId'], additionalProperties: false,
  properties: { providerId: PROVIDER_ID, keyId: KEY_ID },
} as const;

export const serverSchema = {
  type: 'object', required: ['name', 'host', 'port'], additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    host: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:_-]+$' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
} as const;
export const serversSchema = { type: 'array', minItems: 1, maxItems: 64, items: serverSchema } as const;

const certInfo = {
  type: 'object',
  properties: { subjectCn: str(), issuerCn: str(), notAfter: str(64), daysLeft: { type: 'integer' }, sha256Fingerprint: str(64) },
} as const;

export const trustSchema = {
  type: 'object', required: ['trustedServerCerts', 'clientIdentity', 'pendingCsr'],
  properties: {
    trustedServerCerts: { type: 'array', items: certInfo },
    clientIdentity: {
      type: ['object', 'null'],
      properties: { source: str(16), subjectCn: str(), sha256Fingerprint: str(64), notAfter: str(64), daysLeft: { type: 'integer' } },
    },
    pendingCsr: { type: ['object', 'null'], properties: { commonName: str(), createdAt: str(64), csrPem: str(65536) } },
  },
} as const;

export const healthSchema = {
  type: 'object', required: ['provider', 'status', 'color', 'servers'],
  properties: {
    provider: str(), status: str(16), color: { type: 'string', enum: ['green', 'yellow', 'red'] }, checkedAt: str(64),
    servers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: str(), server: str(), status: str(16), latencyMs: { type: 'number' }, checkedAt: str(64),
          versions: { type: 'array', items: str(16) },
          certificate: certInfo,
          error: { type: 'object', properties: { code: str(64), message: str(4096) } },
        },
      },
    },
  },
} as const;

export const providerSchema = {
  type: 'object', required: ['id', 'isDefault', 'servers', 'trust', 'createdAt'],
  properties: {
    id: str(64), isDefault: { type: 'boolean' }, hungTimeoutMs: { type: 'integer' }, createdAt: str(64),
    servers: { type: 'array', items: { type: 'object', properties: { name: str(64), host: str(253), port: { type: 'integer' } } } },
    trust: trustSchema,
    health: healthSchema,
  },
} as const;

const entityRef = { type: 'object', required: ['kind', 'id'], properties: { kind: str(32), id: str(64) } } as const;
export const keyUseSchema = { type: 'object', required: ['entity', 'name', 'part'], properties: { entity: entityRef, name: str(), part: str(64) } } as const;
const keyRef = { type: 'object', required: ['providerId', 'keyId'], properties: { providerId: str(), keyId: str() } } as const;

export const keyStatusSchema = {
  type: 'object', required: ['key', 'providerKnown', 'providerReachable', 'presentInKms', 'hosts', 'usedBy'],
  properties: {
    key: keyRef,
    providerKnown: { type: 'boolean' },
    providerReachable: { type: ['boolean', 'null'] },
    presentInKms: { type: ['boolean', 'null'] },
    state: str(32),
    managedByThisManager: { type: 'boolean' },
    error: str(4096),
    hosts: {
      type: 'array',
      items: { type: 'object', properties: { hostId: str(64), name: str(), present: { type: ['boolean', 'null'] }, connectionState: str(32) } },
    },
    usedBy: { type: 'array', items: keyUseSchema },
  },
} as const;

export const unlockSchema = {
  type: 'object', required: ['unlocked', 'stillLocked'],
  properties: {
    vmId: str(64), locked: { type: 'boolean' }, lockReason: str(32),
    unlocked: { type: 'array', items: str(64) }, stillLocked: { type: 'array', items: str(64) },
  },
} as const;

export const cryptoSafeSchema = {
  type: 'object', required: ['hosts'],
  properties: { hosts: { type: 'array', items: { type: 'object', properties: { hostId: str(64), hostKey: keyRef } } } },
} as const;

export const bodies = {
  addProvider: {
    type: 'object', required: ['name', 'servers'], additionalProperties: false,
    properties: {
      name: PROVIDER_ID,
      servers: serversSchema,
      hungTimeoutMs: { type: 'integer', minimum: 1000, maximum: 600000 },
      default: { type: 'boolean' },
    },
  },
  servers: { type: 'object', required: ['servers'], additionalProperties: false, properties: { servers: serversSchema } },
  certPem: { type: 'object', required: ['certPem'], additionalProperties: false, properties: { certPem: PEM } },
  upload: { type: 'object', required: ['certPem', 'keyPem'], additionalProperties: false, properties: { certPem: PEM, keyPem: PEM, kmsCaPem: PEM } },
  commonName: { type: 'object', required: ['commonName'], additionalProperties: false, properties: { commonName: CN } },
  fingerprint: { type: 'object', required: ['sha256Fingerprint'], additionalProperties: false, properties: { sha256Fingerprint: { type: 'string', pattern: '^[0-9a-fA-F:]{64,95}$' } } },
  cryptoSafe: { type: 'object', additionalProperties: false, properties: { providerId: PROVIDER_ID } },
} as const;
