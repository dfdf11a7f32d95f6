import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { constantTimeEqual } from '../../crypto/guards.js';
import { certificateValidityProblem } from '../../pki/validity.js';
import { HostError } from '../errors.js';
import type { HostStore } from '../host-store.js';

/**
 * Adding the host to a manager (ESXi → vCenter): the manager sees the host's certificate
 * thumbprint on first contact and the operator confirms it; the manager then calls
 * `POST /v1/pair` with the one-time pairing token the agent printed (also in
 * DATA/pairing-token, mode 0600), presenting its client certificate. The agent pins that
 * certificate's SHA-256 fingerprint; from then on only that manager may call, and the
 * token is deleted. `--manager-fingerprint` pins a manager up front instead.
 */
export const PAIRING_TOKEN_FILE = 'pairing-token';

export function peerFingerprint(socket: TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate();
  if (cert === null || cert.raw === undefined || cert.raw.length === 0) return undefined;
  return createHash('sha256').update(cert.raw).digest('hex');
}

/**
 * Why the peer's certificate is outside its validity window, or undefined. The agent trusts the
 * manager by fingerprint alone (no chain check), so nothing else would notice an expired one.
 */
export function peerCertificateProblem(socket: TLSSocket, now: Date = new Date()): string | undefined {
  const cert: Partial<PeerCertificate> | null = socket.getPeerCertificate();
  if (cert === null || cert.valid_to === undefined || cert.valid_from === undefined) return undefined;
  return certificateValidityProblem({ valid_from: cert.valid_from, valid_to: cert.valid_to }, now);
}

function expired(problem: string | undefined, what: string): HostError | undefined {
  return problem === undefined ? undefined : new HostError('HOST_FORBIDDEN', `${what} ${problem}: renew the manager's certificate and pair the host again`);
}

const normalize = (fingerprint: string): string => fingerprint.replace(/[\s:]/g, '').toLowerCase();

function sameHex(a: string, b: string): boolean {
  return constantTimeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export class Pairing {
  readonly #store: HostStore;
  #token: string | undefined;

  private constructor(store: HostStore, token: string | undefined) {
    this.#store = store;
    this.#token = token;
  }

  /** Loads or makes the pairing token when no manager is pinned yet. */
  static async open(store: HostStore): Promise<Pairing> {
    if (store.state.managerFingerprint !== undefined) return new Pairing(store, undefined);
    const file = join(store.dataDir, PAIRING_TOKEN_FILE);
    let token = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (!/^[0-9a-f]{32}$/.test(token)) {
      token = randomBytes(16).toString('hex');
      await writeFile(file, token + '\n', { mode: 0o600 });
    }
    return new Pairing(store, token);
  }

  get paired(): boolean {
    return this.#store.state.managerFingerprint !== undefined;
  }

  get token(): string | undefined {
    return this.#token;
  }

  /** Throws unless `fingerprint` is the pinned manager and its certificate is in its validity window (`problem`: peerCertificateProblem). */
  authorize(fingerprint: string | undefined, problem?: string): void {
    if (fingerprint === undefined) throw new HostError('HOST_FORBIDDEN', 'a client certificate is required');
    const pinned = this.#store.state.managerFingerprint;
    if (pinned === undefined) throw new HostError('HOST_NOT_PAIRED', 'this host is not added to a manager yet: POST /v1/pair with the pairing token first');
    if (!sameHex(pinned, fingerprint)) throw new HostError('HOST_FORBIDDEN', 'this host is managed by another manager (client certificate not pinned)');
    const e = expired(problem, `the pinned manager certificate sha256:${pinned}`);
    if (e !== undefined) throw e;
  }

  /** Pins the caller's certificate if the token matches; one time only. */
  async pair(fingerprint: string | undefined, token: string, problem?: string): Promise<void> {
    if (fingerprint === undefined) throw new HostError('HOST_FORBIDDEN', 'a client certificate is required to pair');
    const e = expired(problem, 'the manager certificate');
    if (e !== undefined) throw e;
    if (this.paired) {
      if (sameHex(this.#store.state.managerFingerprint ?? '', fingerprint)) return;
      throw new HostError('HOST_PAIRING_REJECTED', 'this host is already added to another manager');
    }
    if (this.#token === undefined || !sameHex(this.#token, token)) throw new HostError('HOST_PAIRING_REJECTED', 'wrong pairing token');
    await this.pin(fingerprint);
  }

  /**
   * `--manager-fingerprint` at start: pins it on a host not paired yet. A paired host keeps its
   * manager (a flag left in a unit file must not hand the host to whoever holds that certificate):
   * a different fingerprint is ignored and the returned warning says so.
   */
  async pinFromFlag(fingerprint: string): Promise<string | undefined> {
    const pinned = this.#store.state.managerFingerprint;
    if (pinned === undefined || !/^[0-9a-f]{64}$/.test(normalize(fingerprint))) {
      await this.pin(fingerprint);
      return undefined;
    }
    if (sameHex(pinned, normalize(fingerprint))) return undefined;
    return `WARNING: --manager-fingerprint ${normalize(fingerprint)} ignored: this host is already paired with manager sha256:${pinned}, which stays pinned (docs/host.md, "Adding the host to a manager")`;
  }

  /** Pins a manager on a host not paired yet; refuses to replace another pinned manager. */
  async pin(fingerprint: string): Promise<void> {
    const fp = normalize(fingerprint);
    if (!/^[0-9a-f]{64}$/.test(fp)) throw new HostError('HOST_BAD_REQUEST', 'manager fingerprint must be 64 hex characters (SHA-256)');
    const pinned = this.#store.state.managerFingerprint;
    if (pinned !== undefined && !sameHex(pinned, fp)) throw new HostError('HOST_PAIRING_REJECTED', 'this host is already added to another manager');
    await this.#store.update((s) => ({ ...s, managerFingerprint: fp }));
    this.#token = undefined;
    await rm(join(this.#store.dataDir, PAIRING_TOKEN_FILE), { force: true });
  }
}
