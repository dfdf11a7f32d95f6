import { VmcryptError } from '../errors.js';

/**
 * What the CLI needs to talk to a manager: written by `vmcrypt login` to
 * ~/.config/vmcrypt/profile.json and by `vmcrypt lab up` to DIR/profile.json, always 0600
 * because it holds a bearer token. Read with `--profile FILE`, `VMCRYPT_PROFILE`, or the default.
 *
 * {
 *   "version": 1,
 *   "managerUrl": "https://127.0.0.1:9443",
 *   "thumbprint": "<sha256 hex of the manager's HTTPS certificate, DER>",
 *   "token": "<bearer token from POST /api/session or an API token>",
 *   "user": "admin",                 // optional, shown by `vmcrypt login --status`
 *   "labDir": "/abs/path/to/lab"     // optional: a lab profile (`host restart` restarts lab agents)
 * }
 */
export interface CliProfile {
  readonly version: 1;
  readonly managerUrl: string;
  /** SHA-256 (hex, lower case) of the manager certificate's DER: pinned, no CA needed. */
  readonly thumbprint: string;
  readonly token: string;
  readonly user?: string;
  readonly labDir?: string;
}

/** A profile file is a few hundred bytes; anything larger is not one. */
export const MAX_PROFILE_BYTES = 16 * 1024;

const THUMBPRINT = /^[0-9a-f]{64}$/;
const TOKEN = /^[\x21-\x7e]{8,512}$/;

function bad(what: string, source: string): VmcryptError {
  return new VmcryptError('PROFILE_INVALID', `${source}: ${what} (run vmcrypt login, or pass --profile FILE)`);
}

function optionalString(v: unknown, field: string, source: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw bad(`${field} must be a non-empty string`, source);
  return v;
}

/** Validates a parsed profile document; `source` names the file in errors (never the token). */
export function parseProfile(doc: unknown, source: string): CliProfile {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('not a JSON object', source);
  const o = doc as Record<string, unknown>;
  if (o.version !== 1) throw bad('version must be 1', source);
  const url = optionalString(o.managerUrl, 'managerUrl', source);
  if (url === undefined) throw bad('managerUrl is missing', source);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad('managerUrl is not a URL', source);
  }
  if (parsed.protocol !== 'https:') throw bad('managerUrl must be https://', source);
  if (typeof o.thumbprint !== 'string' || !THUMBPRINT.test(o.thumbprint)) throw bad('thumbprint must be 64 lower-case hex digits (SHA-256)', source);
  if (typeof o.token !== 'string' || !TOKEN.test(o.token)) throw bad('token is missing or malformed', source);
  const user = optionalString(o.user, 'user', source);
  const labDir = optionalString(o.labDir, 'labDir', source);
  return {
    version: 1, managerUrl: parsed.origin, thumbprint: o.thumbprint, token: o.token,
    ...(user === undefined ? {} : { user }),
    ...(labDir === undefined ? {} : { labDir }),
  };
}
