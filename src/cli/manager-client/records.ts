/** The manager's answers the CLI reads (shapes of its OpenAPI document, /api/openapi.json). */

export interface KeyRef {
  readonly providerId: string;
  readonly keyId: string;
}

export interface EntityRef {
  readonly kind: string;
  readonly id: string;
}

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

export interface HostInfo {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly thumbprint: string;
  readonly clusterId?: string;
  readonly connectionState: string;
  readonly cryptoMode: string;
  readonly hostKey?: KeyRef;
}

export interface ClusterInfo {
  readonly id: string;
  readonly name: string;
  readonly ha: boolean;
}

export interface PolicyInfo {
  readonly id: string;
  readonly name: string;
  readonly encryption: boolean;
  readonly providerId?: string;
  readonly builtIn: boolean;
}

export interface DatastoreInfo {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly shared?: boolean;
  readonly hosts: readonly { readonly hostId?: string; readonly mountName?: string }[];
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

export interface TaskInfo {
  readonly id: string;
  readonly kind: string;
  readonly entity?: EntityRef;
  readonly user?: string;
  readonly state: 'queued' | 'running' | 'success' | 'error';
  readonly percent: number;
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  readonly rate?: number;
  readonly message?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface EventInfo {
  readonly id: number;
  readonly time: string;
  readonly type: string;
  readonly severity: string;
  readonly message: string;
  readonly entity?: EntityRef;
  readonly user?: string;
}

export interface AlarmInfo {
  readonly id: number;
  readonly name: string;
  readonly entity: EntityRef;
  readonly status: string;
  readonly message: string;
  readonly triggeredAt: string;
  readonly updatedAt: string;
  readonly acknowledged?: { readonly by: string; readonly at: string };
}

/** A started task as the manager's 202 answers carry it. */
export interface TaskRef {
  readonly id: string;
  readonly kind?: string;
  readonly state: string;
}
