import { EntityKind, Privilege } from '../contracts.js';
import { ERROR_SCHEMA } from './error-handler.js';

/** Shared JSON-schema pieces; every object schema closes itself with additionalProperties: false. */
export const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const ID = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 } as const;
export const ENTITY_KIND = { type: 'string', enum: Object.values(EntityKind) } as const;
export const PRIVILEGE = { type: 'string', enum: Object.values(Privilege) } as const;
export const TIME = { type: 'string', format: 'date-time' } as const;

export const ENTITY_REF = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'id'],
  properties: { kind: ENTITY_KIND, id: ID },
} as const;

export const ERRORS = {
  400: ERROR_SCHEMA,
  401: ERROR_SCHEMA,
  403: ERROR_SCHEMA,
  404: ERROR_SCHEMA,
  409: ERROR_SCHEMA,
} as const;

export const EMPTY = { type: 'object', additionalProperties: false, properties: {} } as const;

export function closed<P extends Record<string, unknown>>(properties: P, required: readonly (keyof P & string)[] = []) {
  return { type: 'object', additionalProperties: false, required: [...required], properties } as const;
}
