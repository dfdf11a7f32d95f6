/** JSON schemas of the inventory's API objects: they validate input, shape output and make the OpenAPI document. */
const str = (maxLength = 256) => ({ type: 'string', maxLength }) as const;
const ID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } as const;
export const NAME = { type: 'string', minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._()-]*$' } as const;
export const VM_NAME = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } as const;
export { ID };

export const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: ID } } as const;

const keyRef = { type: 'object', required: ['providerId', 'keyId'], properties: { providerId: str(), keyId: str() } } as const;

export const folderSchema = {
  type: 'object', required: ['id', 'name'],
  properties: { id: str(64), name: str(), parentId: str(64) },
} as const;

export const clusterSchema = { type: 'object', required: ['id', 'name', 'ha'], properties: { id: str(64), name: str(), ha: { type: 'boolean' } } } as const;

export const hostSchema = {
  type: 'object', required: ['id', 'name', 'url', 'thumbprint', 'connectionState', 'cryptoMode'],
  properties: {
    id: str(64), name: str(), url: str(), thumbprint: str(64), clusterId: str(64),
    connectionState: { type: 'string', enum: ['connected', 'disconnected', 'notResponding'] },
    cryptoMode: { type: 'string', enum: ['incapable', 'prepared', 'safe'] },
    hostKey: keyRef,
    migration: {
      type: 'object', required: ['encryption', 'channels'],
      description: 'What the host agent said at the last successful poll (absent until then): whether it can encrypt migrations, and its channels, preferred first',
      properties: { encryption: { type: 'boolean' }, channels: { type: 'array', items: str(32) } },
    },
  },
} as const;

export const datastoreSchema = {
  type: 'object', required: ['id', 'name', 'path', 'hosts'],
  properties: {
    id: str(64), name: str(), path: str(1024), shared: { type: 'boolean' },
    hosts: { type: 'array', items: { type: 'object', properties: { hostId: str(64), mountName: str(64) } } },
  },
} as const;

export const policySchema = {
  type: 'object', required: ['id', 'name', 'encryption', 'builtIn'],
  properties: { id: str(64), name: str(), encryption: { type: 'boolean' }, providerId: str(), builtIn: { type: 'boolean' } },
} as const;

export const taskRefSchema = { type: 'object', required: ['id', 'state'], properties: { id: str(64), kind: str(), state: str(16) } } as const;

/** A VM as the console shows it: desired state (policy), observed state and compliance side by side. */
export const vmSchema = {
  type: 'object', required: ['id', 'name', 'hostId', 'datastoreId', 'desired', 'observed', 'compliance'],
  properties: {
    id: str(64), name: str(), hostId: str(64), datastoreId: str(64), folderId: str(64), vmxPath: str(2048),
    desired: {
      type: 'object', required: ['policyId', 'policyName', 'encryption'],
      properties: { policyId: str(64), policyName: str(), encryption: { type: 'boolean' }, providerId: str() },
    },
    observed: {
      type: 'object', required: ['provisioned', 'encrypted', 'keys', 'powerState', 'locked'],
      properties: {
        provisioned: { type: 'boolean' }, encrypted: { type: 'boolean' },
        keys: { type: 'array', items: { type: 'object', properties: { part: str(64), key: keyRef } } },
        powerState: { type: 'string', enum: ['poweredOn', 'poweredOff', 'suspended'] },
        locked: { type: 'boolean' }, lockReason: str(1024), error: str(2048), observedAt: str(40),
      },
    },
    compliance: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['compliant', 'notCompliant', 'inProgress'] }, reason: str(2048) } },
    operation: {
      type: 'object',
      properties: {
        id: str(64), kind: str(32), state: str(16), step: str(32), key: keyRef,
        error: { type: 'object', properties: { code: str(64), message: str(2048) } },
      },
    },
  },
} as const;

export const list = (name: string, item: object) => ({ type: 'object', required: [name], properties: { [name]: { type: 'array', items: item } } }) as const;
