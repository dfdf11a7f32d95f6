import { KmipClientError, KmipClientErrorCode } from '../kmip/client/errors.js';
import { KeyProviderError, KeyProviderErrorCode, type FailedAttempt } from './errors.js';

/** Why a key provider gave up on one server and moved to the next. */
export const FailureKind = {
  /** Connection refused / host or network unreachable / TCP connect timeout: next server at once. */
  unreachable: 'unreachable',
  /** Connected, but no answer within the hung-service timeout: next server after that wait. */
  hung: 'hung',
  /** The connection died while waiting for the answer (server killed mid-stream). */
  lost: 'lost',
  /** TLS handshake failed (untrusted certificate, our certificate refused). */
  tls: 'tls',
  /** The server sent something that is not a valid KMIP response. */
  protocol: 'protocol',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/**
 * The failover decision: which errors mean "this server is not usable, try the next one".
 * A KMIP answer (Operation Failed: Item Not Found, Permission Denied, …) is NOT one of them:
 * the server is alive and its replicas would answer the same. Nor are caller errors.
 */
export function failureKind(err: unknown): FailureKind | undefined {
  if (!(err instanceof KmipClientError)) return undefined;
  switch (err.code) {
    case KmipClientErrorCode.unreachable:
      return FailureKind.unreachable;
    case KmipClientErrorCode.timeout:
      return FailureKind.hung;
    case KmipClientErrorCode.connectionLost:
      return FailureKind.lost;
    case KmipClientErrorCode.tls:
      return FailureKind.tls;
    case KmipClientErrorCode.badResponse:
    case KmipClientErrorCode.responseTooLarge:
      return FailureKind.protocol;
    default:
      return undefined;
  }
}

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Remembers which servers failed lately. Failed servers are tried after the others until
 * `downRetryMs` has passed, so a hung server costs the hung timeout once per period, not on
 * every request. They are never skipped: when everything else fails they are still tried.
 */
export class DownList {
  private readonly since = new Map<string, number>();

  constructor(
    private readonly downRetryMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  markDown(server: string): void {
    this.since.set(server, this.clock.now());
  }

  markUp(server: string): void {
    this.since.delete(server);
  }

  isDown(server: string): boolean {
    const t = this.since.get(server);
    return t !== undefined && this.clock.now() - t < this.downRetryMs;
  }

  /** `servers` in configured order, servers marked down moved to the end (oldest mark first). */
  order<S extends { readonly name: string }>(servers: readonly S[]): S[] {
    const up = servers.filter((s) => !this.isDown(s.name));
    const down = servers
      .filter((s) => this.isDown(s.name))
      .sort((a, b) => (this.since.get(a.name) ?? 0) - (this.since.get(b.name) ?? 0));
    return [...up, ...down];
  }
}

export interface FailoverTarget {
  readonly name: string;
  /** "host:port" */
  readonly address: string;
}

export interface FailoverRun<S extends FailoverTarget, T> {
  readonly provider: string;
  readonly servers: readonly S[];
  readonly attempt: (server: S) => Promise<T>;
  readonly down: DownList;
  readonly clock?: Clock;
  /** Called each time the provider gives up on a server (for logs/events). */
  readonly onFailover?: (failed: FailedAttempt) => void;
}

/**
 * Runs `attempt` on the first usable server: on a failover-class error (see failureKind) the
 * next server is tried at once — the hung-service wait already happened inside the attempt, as
 * its response timeout. Any other error is the answer and is thrown as is. When every server
 * failed: KEY_PROVIDER_UNREACHABLE naming each server and why.
 */
export async function runWithFailover<S extends FailoverTarget, T>(run: FailoverRun<S, T>): Promise<T> {
  const clock = run.clock ?? systemClock;
  const attempts: FailedAttempt[] = [];
  for (const server of run.down.order(run.servers)) {
    const started = clock.now();
    try {
      const result = await run.attempt(server);
      run.down.markUp(server.name);
      return result;
    } catch (err) {
      const kind = failureKind(err);
      if (kind === undefined) throw err;
      run.down.markDown(server.name);
      const failed: FailedAttempt = {
        server: server.name,
        address: server.address,
        kind,
        code: (err as KmipClientError).code,
        message: stripServerPrefix((err as Error).message, server.address),
        elapsedMs: clock.now() - started,
      };
      attempts.push(failed);
      run.onFailover?.(failed);
    }
  }
  const detail = attempts.map((a) => `${a.server} (${a.address}): ${a.kind}: ${a.message}`).join('; ');
  throw new KeyProviderError(
    KeyProviderErrorCode.UNREACHABLE,
    `key provider "${run.provider}": all ${attempts.length} key servers failed — ${detail}`,
    { provider: run.provider, attempts },
  );
}

function stripServerPrefix(message: string, address: string): string {
  return message.startsWith(`${address}: `) ? message.slice(address.length + 2) : message;
}
