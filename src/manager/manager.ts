import { makePrivateDir } from '../fs/private-files.js';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { KeyService, RouteModule } from './contracts.js';
import { ManagerError } from './errors.js';
import { openDatabase } from './db/database.js';
import { DATABASE_FILE, createPlatform, type ManagerPlatform } from './platform/platform.js';
import { PLATFORM_MIGRATIONS } from './platform/migrations.js';
import { buildApi } from './api/server.js';
import { platformRoutes } from './api/platform-routes.js';
import { INVENTORY_MIGRATIONS } from './inventory/migrations.js';
import { createInventory, type Inventory } from './inventory/inventory.js';
import type { HostMonitorOptions } from './inventory/hosts/host-monitor.js';
import { loadOrCreateCertificate, type ManagerCertificate } from './inventory/hosts/manager-identity.js';
import { inventoryRoutes } from './inventory/routes/index.js';
import { KEY_MIGRATIONS } from './keys/schema.js';
import { createKeyService } from './keys/key-service.js';
import { keyRoutes } from './keys/key-routes.js';
import type { KeyServiceOptions } from './keys/context.js';
import { consoleRoutes } from './console/console-routes.js';

/** Key management as the composition sees it: the contract's service, its routes, its lifecycle. */
export interface KeyPart {
  readonly service: KeyService;
  readonly routes?: readonly RouteModule[];
  start?(): void;
  stop?(): Promise<void> | void;
}

/** Builds key management once the platform and the inventory exist (it reads the inventory). */
export type KeyPartFactory = (deps: { platform: ManagerPlatform; inventory: Inventory; dataDir: string }) => Promise<KeyPart> | KeyPart;

export interface OpenManagerOptions {
  readonly dataDir: string;
  /** Listen address; absent = no HTTPS server (tests drive the parts directly). */
  readonly listen?: { readonly host: string; readonly port: number };
  /** The initial administrator's password (first start); generated into DATA when absent. */
  readonly adminPassword?: string;
  readonly monitor?: HostMonitorOptions;
  readonly hostConnectTimeoutMs?: number;
  /** Key management; default `keyManagement(keyOptions)`. Tests may pass `noKeyProvider` or a fake. */
  readonly keys?: KeyPartFactory;
  readonly keyOptions?: KeyServiceOptions;
  /** Start the host monitor (default true). */
  readonly startMonitor?: boolean;
}

export interface RunningManager {
  readonly dataDir: string;
  readonly platform: ManagerPlatform;
  readonly inventory: Inventory;
  readonly keys: KeyService;
  /** The HTTPS server's certificate (its thumbprint is what operators compare). */
  readonly serverCertificate: ManagerCertificate;
  /** The client certificate hosts pin at pairing. */
  readonly hostClientCertificate: ManagerCertificate;
  readonly api?: FastifyInstance;
  /** https://HOST:PORT once listening. */
  readonly url?: string;
  close(): Promise<void>;
}

/** Until key management is wired in, every crypto operation is refused with a clear code. */
export const noKeyProvider: KeyPartFactory = () => {
  const refuse = (): never => {
    throw new ManagerError('MANAGER_NO_KEY_PROVIDER', 'no key provider is configured: add one before encrypting');
  };
  return {
    service: {
      defaultProviderId: refuse,
      createKek: async () => refuse(),
      pushForVm: async () => refuse(),
      unlockHost: async () => ({ unlocked: [], stillLocked: [] }),
    },
  };
};

/**
 * The manager (vCenter role) composed: one database with every part's migrations, the
 * platform (access, tasks, events, metrics, log), the inventory, key management, the host
 * monitor and, when asked, the HTTPS API.
 */
export async function openManager(o: OpenManagerOptions): Promise<RunningManager> {
  await makePrivateDir(o.dataDir, { tighten: true });
  const db = openDatabase(join(o.dataDir, DATABASE_FILE), [...PLATFORM_MIGRATIONS, ...INVENTORY_MIGRATIONS, ...KEY_MIGRATIONS]);
  let platform: ManagerPlatform | undefined;
  try {
    platform = await createPlatform({ dataDir: o.dataDir, db, ...(o.adminPassword === undefined ? {} : { adminPassword: o.adminPassword }) });
    const serverCertificate = await loadOrCreateCertificate(o.dataDir, 'manager-server', 'vmcrypt-manager');
    const hostClientCertificate = await loadOrCreateCertificate(o.dataDir, 'host-client', 'vmcrypt-manager-host-client');
    let keyService: KeyService | undefined;
    const keys = (): KeyService => {
      if (keyService === undefined) throw new ManagerError('MANAGER_INTERNAL', 'key management is not ready yet');
      return keyService;
    };
    const inventory = createInventory({
      platform, identity: hostClientCertificate, keys,
      ...(o.monitor === undefined ? {} : { monitor: o.monitor }),
      ...(o.hostConnectTimeoutMs === undefined ? {} : { hostConnectTimeoutMs: o.hostConnectTimeoutMs }),
    });
    platform.accessControl.setAncestry(inventory.ancestry);
    const keyPart = await (o.keys ?? keyManagement(o.keyOptions))({ platform, inventory, dataDir: o.dataDir });
    keyService = keyPart.service;
    keyPart.start?.();
    if (o.startMonitor !== false) inventory.monitor.start();

    let api: FastifyInstance | undefined;
    let url: string | undefined;
    if (o.listen !== undefined) {
      api = await buildApi({
        platform,
        routes: [platformRoutes(platform), inventoryRoutes(inventory), ...(keyPart.routes ?? []), consoleRoutes(platform)],
        tls: { certPem: serverCertificate.certPem, keyPem: serverCertificate.keyPem },
      });
      await api.listen({ host: o.listen.host, port: o.listen.port });
      const addr = api.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : o.listen.port;
      url = `https://${o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host}:${port}`;
    }
    const p = platform;
    let closed = false;
    return {
      dataDir: o.dataDir, platform: p, inventory, keys: keyPart.service, serverCertificate, hostClientCertificate,
      ...(api === undefined ? {} : { api }), ...(url === undefined ? {} : { url }),
      async close() {
        if (closed) return;
        closed = true;
        await api?.close();
        await inventory.monitor.stop();
        await keyPart.stop?.();
        p.close();
        if (db.open) db.close();
      },
    };
  } catch (err) {
    platform?.close();
    if (db.open) db.close();
    throw err;
  }
}

/** Key management over the key providers configured in this manager (src/manager/keys). */
export function keyManagement(options: KeyServiceOptions = {}): KeyPartFactory {
  return ({ platform, inventory }) => {
    const km = createKeyService({ platform, inventory: inventory.view, options });
    return { service: km, routes: [keyRoutes(km, inventory.view)], start: () => km.start(), stop: () => km.close() };
  };
}
