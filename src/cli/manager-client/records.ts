/**
 * The manager's answers the CLI reads (shapes of its OpenAPI document, /api/openapi.json).
 * Where the manager has a TypeScript type that is the answer as it goes on the wire, it is
 * imported, not copied; what is written here are answers the manager builds only from JSON
 * schemas (key providers: trust and health, with dates as strings).
 */
import type { Alarm } from '../../manager/activity/alarms.js';
import type { ClusterRecord, EntityRef, HostRecord, KeyRef, ManagerEvent, TaskInfo } from '../../manager/contracts.js';
import type { DatastoreRecord } from '../../manager/inventory/store/datastore-store.js';
import type { VmJson } from '../../manager/inventory/routes/route-util.js';
import type { StoragePolicy } from '../../manager/inventory/store/policy-store.js';

export type { EntityRef, KeyRef, TaskInfo };
export type HostInfo = HostRecord;
export type ClusterInfo = ClusterRecord;
export type PolicyInfo = StoragePolicy;
export type EventInfo = ManagerEvent;
export type AlarmInfo = Alarm;
/** `shared`: mounted by more than one host (the manager adds it to the record). */
export type DatastoreInfo = DatastoreRecord & { readonly shared?: boolean };
export type VmInfo = VmJson;

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
