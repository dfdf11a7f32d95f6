/**
 * The manager's answers the CLI reads (shapes of its OpenAPI document, /api/openapi.json).
 * Where the manager has a TypeScript type that is the answer as it goes on the wire, it is
 * imported, not copied; what is written here are answers the manager builds only from JSON
 * schemas (a VM's desired/observed view, provider health with dates as strings).
 */
import type { Alarm } from '../../manager/activity/alarms.js';
import type { ClusterRecord, EntityRef, HostRecord, KeyRef, ManagerEvent, TaskInfo } from '../../manager/contracts.js';
import type { DatastoreRecord } from '../../manager/inventory/store/datastore-store.js';
import type { StoragePolicy } from '../../manager/inventory/store/policy-store.js';

export type { EntityRef, KeyRef, TaskInfo };
export type HostInfo = HostRecord;
export type ClusterInfo = ClusterRecord;
export type PolicyInfo = StoragePolicy;
export type EventInfo = ManagerEvent;
export type AlarmInfo = Alarm;
/** `shared`: mounted by more than one host (the manager adds it to the record). */
export type DatastoreInfo = DatastoreRecord & { readonly shared?: boolean };

export interface VmInfo {
  readonly id: string;
  readonly name: string;
  readonly hostId: string;
  readonly datastoreId: string;
  readonly folderId?: string;
  readonly vmxPath?: string;
  readonly desired: { readonly policyId: string; readonly policyName: string; readonly encryption: boolean; readonly providerId?: string };
  readonly observed: {
    readonly provisioned: boolean;
    readonly encrypted: boolean;
    readonly keys: readonly { readonly part?: string; readonly key?: KeyRef }[];
    readonly powerState: string;
    readonly locked: boolean;
    readonly lockReason?: string;
    readonly error?: string;
    readonly observedAt?: string;
    /** Per-disk layers when the manager reports them (snapshots: one layer per overlay). */
    readonly disks?: readonly DiskInfo[];
  };
  readonly compliance: { readonly status: string; readonly reason?: string };
  readonly operation?: { readonly id?: string; readonly kind?: string; readonly state?: string; readonly step?: string; readonly key?: KeyRef; readonly error?: { readonly code?: string; readonly message?: string } };
}

export interface DiskInfo {
  readonly name: string;
  readonly encrypted?: boolean;
  readonly sizeBytes?: number;
  readonly layers?: readonly { readonly file?: string; readonly snapshot?: string; readonly key?: KeyRef; readonly encrypted?: boolean }[];
  readonly key?: KeyRef;
}

export interface CertSummary {
  readonly subjectCn?: string;
  readonly issuerCn?: string;
  readonly notAfter?: string;
  readonly daysLeft?: number;
  readonly sha256Fingerprint?: string;
}

export interface ProviderHealth {
  readonly provider: string;
  readonly status: string;
  readonly color: string;
  readonly checkedAt?: string;
  readonly servers: readonly {
    readonly name?: string; readonly server?: string; readonly status?: string; readonly latencyMs?: number;
    readonly versions?: readonly string[]; readonly certificate?: CertSummary; readonly error?: { readonly code?: string; readonly message?: string };
  }[];
}

export interface KeyProviderInfo {
  readonly id: string;
  readonly isDefault: boolean;
  readonly hungTimeoutMs?: number;
  readonly createdAt?: string;
  readonly servers: readonly { readonly name?: string; readonly host?: string; readonly port?: number }[];
  readonly trust?: {
    readonly trustedServerCerts: readonly CertSummary[];
    readonly clientIdentity?: CertSummary & { readonly source?: string };
    readonly pendingCsr?: { readonly commonName?: string; readonly createdAt?: string; readonly csrPem?: string };
  };
  readonly health?: ProviderHealth;
}

/** A started task as the manager's 202 answers carry it. */
export interface TaskRef {
  readonly id: string;
  readonly kind?: string;
  readonly state: string;
}
