import type { Socket } from 'node:net';
import { loadNativeAddon, type LoadedAddon } from '../../crypto/native-addon.js';
import { HostError } from '../errors.js';
import type { Direction, MigrationKey } from './frames.js';

/**
 * The tunnel's native data path (native/relay.c): one pthread per direction-pump moves bytes
 * between QEMU's socket and the agent-to-agent TCP socket, sealing or opening the frames of
 * frames.ts (same wire format, nonce and AAD). Node keeps the control path and the small
 * direction of each end; the relay reads where Node writes and writes where Node reads (it
 * works on dup()s of the fds, Node never reads the socket the relay reads).
 */
interface Addon {
  start(seal: boolean, reverse: boolean, inFd: number, outFd: number, key: Buffer, nonce: Buffer, id: Buffer, onEvent: (kind: string, code: string, message: string) => void): RelayState;
  finish(r: RelayState): void;
  stop(r: RelayState, abort: boolean): void;
  stats(r: RelayState): [bytes: number, frames: number];
}
type RelayState = { readonly __brand: 'RelayState' };

let loaded: LoadedAddon<Addon> | undefined;

/**
 * The addon, loaded once. Absent (not built) or disabled with VMCRYPT_RELAY=node, the tunnel
 * moves its bytes in Node (frames.ts), slower; the reason says which.
 */
export function nativeRelay(): LoadedAddon<Addon> {
  loaded ??= loadNativeAddon<Addon>('vmcrypt_relay', process.env['VMCRYPT_RELAY'] === 'node' ? 'VMCRYPT_RELAY=node' : undefined);
  return loaded;
}

function fdOf(s: Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new HostError('HOST_MIGRATION_FAILED', 'migration tunnel: a socket has no file descriptor');
  return fd;
}

export interface RelayEvents {
  /** seal: QEMU's stream ended and every frame of it was sent. */
  onEof?(): void;
  /** seal: the last frame was sent; open: the last frame was verified (its payload dropped). */
  onLast?(): void;
  onError(err: HostError): void;
}

/** One direction of one tunnel on a native thread. */
export class NativeRelay {
  readonly #addon: Addon;
  #state: RelayState | undefined;

  private constructor(addon: Addon, state: RelayState) {
    this.#addon = addon;
    this.#state = state;
  }

  /**
   * `seal`: plain bytes read from `from` go out to `to` as frames of direction `dir`;
   * otherwise frames of `dir` read from `from` go to `to` as plain bytes. The key is copied into
   * the thread's OpenSSL context only (the caller zeroes its own).
   */
  static start(addon: Addon, mode: 'seal' | 'open', k: MigrationKey, dir: Direction, from: Socket, to: Socket, ev: RelayEvents): NativeRelay {
    const onEvent = (kind: string, code: string, message: string): void => {
      if (kind === 'eof') ev.onEof?.();
      else if (kind === 'last') ev.onLast?.();
      else ev.onError(new HostError(code === 'HOST_MIGRATION_STREAM_TAMPERED' ? code : 'HOST_MIGRATION_FAILED', message));
    };
    const id = Buffer.from(k.migrationId, 'utf8');
    const state = addon.start(mode === 'seal', dir === 'reverse', fdOf(from), fdOf(to), k.key, k.nonce, id, onEvent);
    return new NativeRelay(addon, state);
  }

  /** seal: send the last frame once the input has ended. */
  finish(): void {
    if (this.#state !== undefined) this.#addon.finish(this.#state);
  }

  /** Plain bytes moved and frames sealed or opened so far. */
  get stats(): { bytes: number; frames: number } {
    const [bytes, frames] = this.#state === undefined ? [0, 0] : this.#addon.stats(this.#state);
    return { bytes, frames };
  }

  get bytes(): number {
    return this.stats.bytes;
  }

  /** Stops and joins the thread and closes its fd copies; `abort` shuts both sockets down first. */
  stop(abort: boolean): void {
    const s = this.#state;
    this.#state = undefined;
    if (s !== undefined) this.#addon.stop(s, abort);
  }
}
