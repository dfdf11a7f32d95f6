import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostEvents } from '../events.js';
import type { HostStore } from '../host-store.js';
import type { HostVms } from '../vm/host-vms.js';
import type { KeyCache } from '../keys/key-cache.js';

export interface ApiDeps {
  readonly store: HostStore;
  readonly cache: KeyCache;
  readonly events: HostEvents;
  readonly vms: HostVms;
  readonly thumbprint: string;
  readonly version: string;
  readonly allowCrash: boolean;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], deps: ApiDeps) => Promise<void>;
export interface Route {
  readonly method: string;
  readonly re: RegExp;
  readonly handler: Handler;
}

export const UUID = '([0-9a-f-]{36})';
