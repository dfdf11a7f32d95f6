import type { CliProfile } from '../profile.js';
import { answerError } from './answer-errors.js';
import { pinnedRequest } from './pinned-https.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The manager's REST API as the CLI sees it: pinned HTTPS, the profile's bearer token, clear errors. */
export class ManagerClient {
  readonly profile: CliProfile;

  constructor(profile: CliProfile) {
    this.profile = profile;
  }

  /** A 2xx answer's body; any other answer becomes the VmcryptError that says what to do. */
  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const answer = await pinnedRequest({
      baseUrl: this.profile.managerUrl, thumbprint: this.profile.thumbprint, method, path, token: this.profile.token,
      ...(body === undefined ? {} : { body }),
    });
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw answerError(answer.status, answer.body, `${method} ${path.split('?')[0] ?? path}`);
  }

  get<T>(path: string, query?: Readonly<Record<string, string | number | boolean | undefined>>): Promise<T> {
    return this.call<T>('GET', path + queryString(query));
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, body);
  }

  delete<T>(path: string, query?: Readonly<Record<string, string | number | boolean | undefined>>): Promise<T> {
    return this.call<T>('DELETE', path + queryString(query));
  }
}

export function queryString(query?: Readonly<Record<string, string | number | boolean | undefined>>): string {
  if (query === undefined) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** A path segment from user input: encoded so a name can never steer the request elsewhere. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
