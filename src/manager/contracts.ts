/**
 * The seams between the manager's parts, written once so that each part can be built and
 * tested on its own: the platform (database, access control, tasks, events, alarms, HTTP API),
 * the inventory (clusters, hosts, datastores, folders, VMs, storage policies, host connections)
 * and key management (key providers, KEKs, key push, unlock, crypto-safe hosts).
 * Key bytes never cross these interfaces as anything but a Buffer the receiver zeroes;
 * everything persisted or returned names keys by `{providerId, keyId}` only.
 */
import type { Database } from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** An inventory object, as permissions, events and tasks refer to it. */
export const EntityKind = {
  ROOT: 'root',
  FOLDER: 'folder',
  CLUSTER: 'cluster',
  HOST: 'host',
  DATASTORE: 'datastore',
  VM: 'vm',
  KEY_PROVIDER: 'keyProvider',
  POLICY: 'policy',
} as const;
export type EntityKind = (typeof EntityKind)[keyof typeof EntityKind];

export interface EntityRef {
  readonly kind: EntityKind;
  readonly id: string;
}

/** The root of the inventory tree (global permissions are set here). */
export const ROOT: EntityRef = { kind: EntityKind.ROOT, id: 'root' };

export const vmRef = (id: string): EntityRef => ({ kind: EntityKind.VM, id });

/** Walks the inventory tree upwards; permissions set on an ancestor inherit downward. */
export interface AncestryResolver {
  /** Nearest parent first, ending with ROOT; [] for ROOT itself; throws MANAGER_NOT_FOUND for an unknown entity. */
  ancestors(entity: EntityRef): EntityRef[];
}

/** A key as the manager stores it: ids only, never bytes. */
export interface KeyRef {
  readonly providerId: string;
  readonly keyId: string;
}

export type Severity = 'info' | 'warning' | 'error' | 'critical';

export interface EventInput {
  readonly type: string;
  readonly severity: Severity;
  readonly message: string;
  readonly entity?: EntityRef;
  readonly user?: string;
  /** Small flat facts for scripts (never key bytes). */
  readonly data?: Readonly<Record<string, string | number | boolean>>;
}

export interface ManagerEvent extends EventInput {
  readonly id: number;
  readonly time: string;
}

/** Posts and lists events (persisted); alarms are derived from them. */
export interface EventPoster {
  post(event: EventInput): ManagerEvent;
}

export interface ProgressUpdate {
  readonly percent?: number;
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  readonly message?: string;
}

export interface TaskProgress {
  update(p: ProgressUpdate): void;
}

export type TaskState = 'queued' | 'running' | 'success' | 'error';

export interface TaskInfo {
  readonly id: string;
  readonly kind: string;
  readonly entity?: EntityRef;
  readonly user?: string;
  readonly state: TaskState;
  readonly percent: number;
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  /** Bytes per second over the task's run so far, when bytes are reported. */
  readonly rate?: number;
  readonly message?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Runs long work as tasks: state and progress persisted, followed by polling or SSE. */
export interface TaskStarter {
  /** Starts `run` now (the returned info is `running`); errors become the task's error. */
  start<T>(spec: { kind: string; entity?: EntityRef; user?: string }, run: (progress: TaskProgress) => Promise<T>): TaskInfo;
  /** Resolves when the task has ended (success or error). */
  wait(id: string): Promise<TaskInfo>;
}

/**
 * Privileges, named as vSphere names them. Cryptographer.* are the crypto privileges the
 * "No Cryptography Administrator" role lacks; Cryptographer.Access is also what opening a
 * console of, uploading to or downloading an encrypted VM needs on top of the plain privilege.
 */
export const Privilege = {
  CRYPTO_ACCESS: 'Cryptographer.Access',
  CRYPTO_ADD_DISK: 'Cryptographer.AddDisk',
  CRYPTO_CLONE: 'Cryptographer.Clone',
  CRYPTO_DECRYPT: 'Cryptographer.Decrypt',
  CRYPTO_ENCRYPT: 'Cryptographer.Encrypt',
  CRYPTO_ENCRYPT_NEW: 'Cryptographer.EncryptNew',
  CRYPTO_MANAGE_ENCRYPTION_POLICY: 'Cryptographer.ManageEncryptionPolicy',
  CRYPTO_MANAGE_KEY_SERVERS: 'Cryptographer.ManageKeyServers',
  CRYPTO_MANAGE_KEYS: 'Cryptographer.ManageKeys',
  CRYPTO_MIGRATE: 'Cryptographer.Migrate',
  CRYPTO_RECRYPT: 'Cryptographer.Recrypt',
  CRYPTO_REGISTER_HOST: 'Cryptographer.RegisterHost',
  CRYPTO_REGISTER_VM: 'Cryptographer.RegisterVM',
  CRYPTO_READ_KEY_SERVERS_INFO: 'Cryptographer.ReadKeyServersInfo',
  SYSTEM_READ: 'System.Read',
  VM_CREATE: 'VirtualMachine.Inventory.Create',
  VM_REGISTER: 'VirtualMachine.Inventory.Register',
  VM_DELETE: 'VirtualMachine.Inventory.Delete',
  VM_POWER_ON: 'VirtualMachine.Interact.PowerOn',
  VM_POWER_OFF: 'VirtualMachine.Interact.PowerOff',
  VM_CONSOLE: 'VirtualMachine.Interact.ConsoleInteract',
  VM_SNAPSHOT_CREATE: 'VirtualMachine.State.CreateSnapshot',
  VM_SNAPSHOT_REVERT: 'VirtualMachine.State.RevertToSnapshot',
  VM_SNAPSHOT_REMOVE: 'VirtualMachine.State.RemoveSnapshot',
  VM_CLONE: 'VirtualMachine.Provisioning.Clone',
  VM_ADD_DISK: 'VirtualMachine.Config.AddNewDisk',
  VM_CHANGE_POLICY: 'VirtualMachine.Config.Settings',
  VM_DOWNLOAD: 'VirtualMachine.Provisioning.GetVmFiles',
  VM_UPLOAD: 'VirtualMachine.Provisioning.PutVmFiles',
  VM_MIGRATE: 'Resource.HotMigrate',
  HOST_ADD: 'Host.Inventory.AddHostToCluster',
  HOST_REMOVE: 'Host.Inventory.RemoveHostFromCluster',
  HOST_CONFIG: 'Host.Config.Settings',
  CLUSTER_EDIT: 'Host.Inventory.EditCluster',
  FOLDER_CREATE: 'Folder.Create',
  DATASTORE_CONFIG: 'Datastore.Config',
  POLICY_UPDATE: 'StorageProfile.Update',
  ALARM_ACK: 'Alarm.Acknowledge',
  MANAGE_PERMISSIONS: 'Authorization.ModifyPermissions',
  MANAGE_ROLES: 'Authorization.ModifyRoles',
  MANAGE_USERS: 'Authorization.ManageUsers',
} as const;
export type Privilege = (typeof Privilege)[keyof typeof Privilege];

/** Who is calling (set by the API's authentication before any handler runs). */
export interface Principal {
  readonly user: string;
}

/** Checks privileges; a denial throws MANAGER_FORBIDDEN naming the missing privilege and the entity. */
export interface AccessChecker {
  check(principal: Principal, privilege: Privilege, entity?: EntityRef): void;
  has(principal: Principal, privilege: Privilege, entity?: EntityRef): boolean;
}

// ---- inventory <-> key management -------------------------------------------------------

export type HostConnectionState = 'connected' | 'disconnected' | 'notResponding';
export type HostCryptoMode = 'incapable' | 'prepared' | 'safe';

export interface HostRecord {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly thumbprint: string;
  readonly clusterId?: string;
  readonly connectionState: HostConnectionState;
  readonly cryptoMode: HostCryptoMode;
  /** The host key (crypto-safe mode) the host's core dumps are sealed with. */
  readonly hostKey?: KeyRef;
}

export interface ClusterRecord {
  readonly id: string;
  readonly name: string;
  readonly ha: boolean;
}

export interface VmKeyUse {
  /** 'vm' for the VM home (.vmx, NVRAM, logs); otherwise the disk's name. */
  readonly part: string;
  readonly key: KeyRef;
}

export interface VmRecord {
  readonly id: string;
  readonly name: string;
  readonly hostId: string;
  readonly datastoreId: string;
  readonly policyId: string;
  /** Observed: the KEKs the VM's files are wrapped with now (empty when not encrypted). */
  readonly keys: readonly VmKeyUse[];
  readonly powerState: 'poweredOn' | 'poweredOff' | 'suspended';
  /** Observed: locked = encrypted and a needed KEK is not in its host's key cache. */
  readonly locked: boolean;
  readonly lockReason?: string;
}

/** Calls a host agent's API over its pinned mutual-TLS connection. */
export interface HostGateway {
  call<T = Record<string, unknown>>(hostId: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

/** What key management reads of the inventory (owned by the inventory part). */
export interface InventoryView {
  readonly hosts: HostGateway;
  host(id: string): HostRecord | undefined;
  listHosts(): HostRecord[];
  cluster(id: string): ClusterRecord | undefined;
  /** Hosts of a cluster. */
  clusterHosts(clusterId: string): HostRecord[];
  vm(id: string): VmRecord | undefined;
  listVms(): VmRecord[];
  /** VMs registered on the host (their files are there). */
  vmsOnHost(hostId: string): VmRecord[];
  /** Records the host's crypto state (set by key management in crypto-safe operations). */
  setHostCrypto(hostId: string, mode: HostCryptoMode, hostKey?: KeyRef): void;
}

/** What the inventory asks of key management (owned by the key-management part). */
export interface KeyService {
  /** The default key provider's id, or MANAGER_NO_KEY_PROVIDER. */
  defaultProviderId(): string;
  /**
   * Creates an AES-256 KEK in the provider (the default when absent), tagged with attributes
   * naming this manager and the entity, activates it and returns its id. On failure posts the
   * critical `key.createFailed` event and throws; nothing is recorded.
   */
  createKek(spec: { readonly providerId?: string; readonly entity: EntityRef; readonly user?: string }): Promise<KeyRef>;
  /** Pushes these KEKs to the hosts the push rules name for the VM (HA cluster: every host of it; otherwise the VM's host). */
  pushForVm(vmId: string, keys: readonly KeyRef[]): Promise<void>;
  /**
   * A host came back with an empty key cache (restart, reconnect) or the operator asked to unlock:
   * fetch every KEK the host's VMs need (KMIP batches) and push them. VMs whose keys cannot be
   * fetched stay locked with `vm.locked.kmsClusterError` / `vm.locked.keyMissingOnKms` and are retried.
   */
  unlockHost(hostId: string, user?: string): Promise<{ readonly unlocked: readonly string[]; readonly stillLocked: readonly string[] }>;
  /** Migration (issue 14): is this key provider configured here? (absent = no key management) */
  knowsProvider?(providerId: string): boolean;
  /** Migration: pushes KEKs to this host (the destination before the switch-over), whatever the VM's push rules. */
  pushToHost?(hostId: string, keys: readonly KeyRef[]): Promise<void>;
  /** Migration: removes from the host the keys of `keys` that no VM there (nor its HA cluster) needs any more; returns their ids. */
  dropUnneeded?(hostId: string, keys: readonly KeyRef[]): Promise<readonly string[]>;
}

// ---- the platform every part builds on ---------------------------------------------------

/** One named schema step; each part exports its own list, applied in order, each once. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/** What the platform gives the inventory and key-management parts. */
export interface Platform {
  readonly dataDir: string;
  /** The manager's SQLite database (WAL, synchronous=FULL, foreign keys on). */
  readonly db: Database;
  readonly log: Logger;
  /** prom-client registry served at /metrics; parts add their own metrics to it. */
  readonly metrics: Registry;
  readonly events: EventPoster;
  readonly tasks: TaskStarter;
  readonly access: AccessChecker;
}

/**
 * A part's HTTP routes. Every route has a JSON schema (body, params, querystring, response)
 * and `config: RouteAccess`; the platform authenticates first, checks `privilege` on `entity`,
 * and sets `request.principal`.
 */
export type RouteModule = (app: FastifyInstance) => void | Promise<void>;

export interface RouteAccess {
  /** Privilege checked before the handler; absent only with `public: true` (login) or `authenticatedOnly`. */
  readonly privilege?: Privilege;
  /** The object checked against (default ROOT). */
  readonly entity?: (request: { readonly params: unknown; readonly body: unknown; readonly query: unknown }) => EntityRef;
  readonly public?: boolean;
  /** Any logged-in user (e.g. "who am I", change own password). */
  readonly authenticatedOnly?: boolean;
}
