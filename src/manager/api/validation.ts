import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { FastifySchema } from 'fastify/types/schema.js';

const common: Options = {
  allErrors: false,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
};

/**
 * Two validators: a JSON body keeps its types exactly (a string "5" is not a number, 123 is not a
 * name), while params and query strings, which are text by nature, are coerced to their types.
 * Neither strips unknown fields: `additionalProperties: false` refuses them.
 */
const bodyAjv = new Ajv({ ...common, coerceTypes: false });
const textAjv = new Ajv({ ...common, coerceTypes: 'array' });
for (const ajv of [bodyAjv, textAjv]) ajv.addKeyword({ keyword: 'example' }).addKeyword({ keyword: 'x-entity' });

export const validatorCompiler: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object) as ReturnType<FastifySchemaCompiler<FastifySchema>>;

/** `body.entity.kind: must be string`, `body.extra: unknown field`: the field is always named. */
export function describeValidationError(errors: readonly FastifySchemaValidationError[], dataVar: string): string {
  return errors.map((e) => describeOne(e as unknown as ErrorObject, dataVar)).join('; ');
}

function describeOne(e: ErrorObject, dataVar: string): string {
  const path = [dataVar, ...e.instancePath.split('/').filter((s) => s !== '')].join('.');
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${path}.${String(params['additionalProperty'])}: unknown field`;
    case 'required':
      return `${path}.${String(params['missingProperty'])}: required`;
    case 'type':
      return `${path}: must be ${String(params['type'])}`;
    default:
      return `${path}: ${e.message ?? 'invalid'}`;
  }
}
