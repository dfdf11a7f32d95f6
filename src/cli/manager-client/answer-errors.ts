import { VmcryptError } from '../../errors.js';

/**
 * Exit codes beyond 0/1/2, one per situation a script may branch on (docs/cli.md lists them).
 * DENIED is distinct so that "you may not" is never mistaken for "it broke".
 */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  DENIED: 3,
  UNREACHABLE: 4,
  LOGIN_REQUIRED: 5,
} as const;

interface ErrorBody {
  readonly error?: { readonly code?: unknown; readonly message?: unknown };
}

function field(body: unknown, name: 'code' | 'message'): string {
  const v = (body as ErrorBody | null)?.error?.[name];
  return typeof v === 'string' ? v.slice(0, 2048) : '';
}

const LACKS = /^user (\S+) lacks privilege (\S+) on (\S+) (\S+)$/;

/** What an error answer of the manager means for the operator, and what to do next. */
export function answerError(status: number, body: unknown, what: string): VmcryptError {
  const code = field(body, 'code');
  const message = field(body, 'message');
  if (status === 401) {
    return new VmcryptError('LOGIN_REQUIRED', `${what}: the manager does not accept this profile's token (expired or logged out): log in again: vmcrypt login`, { exitCode: ExitCode.LOGIN_REQUIRED });
  }
  if (status === 403) {
    const m = LACKS.exec(message);
    const detail = m === null ? message : `you (${m[1] ?? '?'}) lack privilege ${m[2] ?? '?'} on ${m[3] ?? '?'} ${m[4] ?? '?'}`;
    return new VmcryptError('DENIED', `denied: ${detail}: ask an administrator for a role that has it (vmcrypt permission list)`, { exitCode: ExitCode.DENIED });
  }
  if (status === 409) {
    return new VmcryptError('REFUSED', `${what}: the manager refused: "${message}"${code === '' ? '' : ` (${code})`}`);
  }
  if (status === 404) {
    return new VmcryptError('NOT_FOUND', `${what}: ${message === '' ? 'not found' : message}`);
  }
  if (status === 400) {
    return new VmcryptError('BAD_REQUEST', `${what}: the manager rejected the request: ${message}`);
  }
  if (status === 503) {
    return new VmcryptError('MANAGER_UNAVAILABLE', `${what}: ${message} (${code}): the manager is up but a host or key server behind it is not; check vmcrypt kms status and vmcrypt host list`);
  }
  return new VmcryptError('MANAGER_FAILED', `${what}: the manager answered ${status}${code === '' ? '' : ` ${code}`}: ${message === '' ? 'no details' : message}`);
}
