/** JSON schemas of the VM operation routes (they shape the answers and the OpenAPI document). */
const str = (maxLength = 256) => ({ type: 'string', maxLength }) as const;

export const snapshotSchema = {
  type: 'object', required: ['id', 'name'],
  properties: { id: str(64), name: str(128), parentId: str(64), createdAt: str(40), layerCount: { type: 'integer' } },
} as const;

export const settingsSchema = {
  type: 'object',
  properties: {
    hostsKeyServer: { type: 'boolean' }, hostsManager: { type: 'boolean' }, faultTolerance: { type: 'boolean' }, replication: { type: 'boolean' },
    contentLibrary: { type: 'boolean' }, serialPorts: { type: 'integer' }, parallelPorts: { type: 'integer' }, instantCloneOf: str(64),
    migrateEncryption: { type: 'string', enum: ['disabled', 'opportunistic', 'required'] },
  },
} as const;

const layer = { type: 'object', properties: { file: str(1024), format: str(16), keyId: str() } } as const;

export const encryptionInfoSchema = {
  type: 'object', required: ['vmId', 'name', 'policy', 'encrypted', 'locked', 'compliance', 'mixedKeys', 'disks', 'keys'],
  properties: {
    vmId: str(64), name: str(), encrypted: { type: 'boolean' }, locked: { type: 'boolean' }, lockReason: str(1024),
    policy: { type: 'object', properties: { id: str(64), name: str(), encryption: { type: 'boolean' }, providerId: str() } },
    compliance: { type: 'object', properties: { status: str(16), reason: str(2048) } },
    providerId: str(), keyId: str(), mixedKeys: { type: 'boolean' },
    disks: { type: 'array', items: { type: 'object', properties: { id: str(64), sizeBytes: { type: 'integer' }, encrypted: { type: 'boolean' }, layers: { type: 'array', items: layer } } } },
    snapshots: { type: 'array', items: { type: 'object', properties: { id: str(64), name: str(128), parentId: str(64) } } },
    keys: { type: 'array', items: { type: 'object', properties: { providerId: str(), keyId: str(), usedBy: { type: 'array', items: str(1100) } } } },
  },
} as const;
