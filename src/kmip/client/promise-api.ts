import type { Attribute } from '../attributes.js';
import type { QueryResponse } from '../payloads/query.js';
import type { OpCall } from './call.js';
import { addAttributeCall, getAttributesCall, locateCall, type LocateSpec } from './calls/attributes.js';
import { getKeyCall, type FetchedKey, type KeyFormat } from './calls/keys.js';
import { activateCall, destroyCall, revokeCall, type RevokeSpec } from './calls/lifecycle.js';
import { queryCall } from './calls/server.js';

/**
 * The per-operation Promise API, written once over `send`: a KmipClient sends to one server,
 * a KeyProvider sends with failover across its servers. Create and Discover Versions differ
 * between the two and stay in each class.
 */
export abstract class KmipOperations {
  abstract send<T>(call: OpCall<T>): Promise<T>;

  query(functions?: readonly number[]): Promise<QueryResponse> {
    return this.send(queryCall(functions));
  }

  /** Fetches a key. The caller zeroes `material` once used. */
  get(uid: string, format?: keyof typeof KeyFormat): Promise<FetchedKey> {
    return this.send(getKeyCall(uid, format));
  }

  getAttributes(uid: string, names?: readonly string[]): Promise<Attribute[]> {
    return this.send(getAttributesCall(uid, names));
  }

  activate(uid: string): Promise<string> {
    return this.send(activateCall(uid));
  }

  locate(spec?: LocateSpec): Promise<string[]> {
    return this.send(locateCall(spec));
  }

  addAttribute(uid: string, attribute: Attribute): Promise<Attribute> {
    return this.send(addAttributeCall(uid, attribute));
  }

  revoke(uid: string, spec?: RevokeSpec): Promise<string> {
    return this.send(revokeCall(uid, spec));
  }

  destroy(uid: string): Promise<string> {
    return this.send(destroyCall(uid));
  }
}
