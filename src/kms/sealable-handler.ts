import type { KmipError } from '../kmip/errors.js';
import type { KmipMessageHandler } from '../kmip/server/types.js';
import type { AuditLog } from './audit.js';
import { KmsError } from './errors.js';
import { KeyServer } from './key-server.js';
import { KeySealer } from './key-material-seal.js';
import type { KeyStore } from './store/types.js';

export const SEALED_MESSAGE = 'the key server is sealed: it serves nothing until unsealed (vmcrypt kms unseal --data DIR)';

const sealedError = (): KmsError => new KmsError('SEALED', SEALED_MESSAGE);

/** A store that is not there yet: every call is SEALED. */
const sealedStore: KeyStore = {
  kind: 'sealed',
  newId: () => {
    throw sealedError();
  },
  insert: async () => Promise.reject(sealedError()),
  get: async () => Promise.reject(sealedError()),
  update: async () => Promise.reject(sealedError()),
  list: async () => Promise.reject(sealedError()),
  readMeta: async () => Promise.reject(sealedError()),
  writeMeta: async () => Promise.reject(sealedError()),
  close: async () => {},
};

/**
 * What the KMIP listener talks to: while sealed, a KeyServer whose every batch item fails with
 * the SEALED message (each one audited, as any request); once unsealed, the real KeyServer.
 * Listening while sealed (as Vault does) lets clients and health checks tell "sealed" from "down".
 */
export class SealableHandler implements KmipMessageHandler {
  #current: KmipMessageHandler;

  constructor(audit: AuditLog) {
    // The sealer is never used (the gate refuses first); it holds a zero key.
    this.#current = new KeyServer({
      store: sealedStore,
      sealer: new KeySealer(Buffer.alloc(32)),
      audit,
      now: () => new Date(),
      randomBytes: () => {
        throw sealedError();
      },
      gate: () => {
        throw sealedError();
      },
    });
  }

  unseal(server: KeyServer): void {
    this.#current = server;
  }

  handleMessage(identity: string, request: Buffer, peer?: string): Promise<Buffer> {
    return this.#current.handleMessage(identity, request, peer);
  }

  rejectMessage(identity: string, error: KmipError, peer?: string): Buffer {
    return this.#current.rejectMessage(identity, error, peer);
  }
}
