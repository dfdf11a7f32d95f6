import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VmcryptError } from '../../errors.js';
import { ManagerError, managerErrorHttpStatus, type ManagerErrorCode } from '../errors.js';
import { describeValidationError } from './validation.js';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** The JSON schema of every error answer (listed in the OpenAPI document). */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/** Maps anything a handler or fastify throws to one ManagerError shape; never a stack, never a cause's text. */
export function toManagerError(err: unknown, bodyLimit: number): ManagerError {
  if (err instanceof ManagerError) return err;
  const fe = err as Partial<FastifyError> & { validation?: unknown; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    return new ManagerError('MANAGER_BAD_REQUEST', describeValidationError(fe.validation, fe.validationContext ?? 'request'));
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ManagerError('MANAGER_PAYLOAD_TOO_LARGE', `body: larger than ${bodyLimit} bytes`);
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.name === 'SyntaxError') return new ManagerError('MANAGER_BAD_REQUEST', 'body: not valid JSON');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new ManagerError('MANAGER_BAD_REQUEST', 'body: empty, but the content type says JSON');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ManagerError('MANAGER_BAD_REQUEST', 'body: send application/json');
  if (err instanceof VmcryptError && (Object.hasOwn(managerErrorHttpStatus, err.code) as boolean)) {
    return new ManagerError(err.code as ManagerErrorCode, err.message);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ManagerError('MANAGER_BAD_REQUEST', fe.message ?? 'bad request');
  }
  return new ManagerError('MANAGER_INTERNAL', 'internal error (see the manager log)');
}

export function installErrorHandler(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = toManagerError(err, bodyLimit);
    if (mapped.code === 'MANAGER_INTERNAL') {
      request.log.error({ err }, 'unexpected error');
    } else if (mapped.httpStatus >= 500) {
      request.log.warn({ code: mapped.code, msg: mapped.message }, 'request failed');
    }
    const body: ErrorBody = { error: { code: mapped.code, message: mapped.message } };
    return reply.status(mapped.httpStatus).type('application/json').send(body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const body: ErrorBody = { error: { code: 'MANAGER_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } };
    return reply.status(404).send(body);
  });
}
