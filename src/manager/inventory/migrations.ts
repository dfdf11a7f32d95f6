import type { Migration } from '../contracts.js';

/**
 * The inventory's schema. Desired state (a VM's storage policy) and observed state (what the
 * host's .vmx says: encrypted, keys, power, locked) live side by side in `inv_vms`; in-flight
 * reconcile work lives in `inv_vm_operations`, one row per operation, so a step that failed can
 * be rerun from where it stopped. Keys are stored as `{provider_id, key_id}` only.
 */
export const INVENTORY_MIGRATIONS: Migration[] = [
  {
    name: 'inventory-001-tree',
    sql: `
CREATE TABLE inv_folders (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent_id TEXT REFERENCES inv_folders(id) ON DELETE RESTRICT,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX inv_folders_name ON inv_folders(COALESCE(parent_id, ''), name);

CREATE TABLE inv_clusters (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  ha INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

CREATE TABLE inv_hosts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL UNIQUE,
  thumbprint TEXT NOT NULL,
  cluster_id TEXT REFERENCES inv_clusters(id) ON DELETE RESTRICT,
  connection_state TEXT NOT NULL DEFAULT 'connected',
  crypto_mode TEXT NOT NULL DEFAULT 'incapable',
  host_key_provider_id TEXT,
  host_key_id TEXT,
  event_seq INTEGER NOT NULL DEFAULT 0,
  event_time TEXT NOT NULL DEFAULT '',
  last_seen TEXT,
  added_at TEXT NOT NULL
);

CREATE TABLE inv_datastores (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);

-- a datastore mounted on a host under the name the host agent knows it by
CREATE TABLE inv_host_datastores (
  host_id TEXT NOT NULL REFERENCES inv_hosts(id) ON DELETE CASCADE,
  datastore_id TEXT NOT NULL REFERENCES inv_datastores(id) ON DELETE CASCADE,
  mount_name TEXT NOT NULL,
  PRIMARY KEY (host_id, datastore_id),
  UNIQUE (host_id, mount_name)
);

CREATE TABLE inv_policies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  encryption INTEGER NOT NULL,
  provider_id TEXT,
  built_in INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
INSERT INTO inv_policies (id, name, encryption, provider_id, built_in, created_at)
  VALUES ('datastore-default', 'Datastore Default', 0, NULL, 1, '1970-01-01T00:00:00.000Z'),
         ('vm-encryption', 'VM Encryption Policy', 1, NULL, 1, '1970-01-01T00:00:00.000Z');

CREATE TABLE inv_vms (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  host_id TEXT NOT NULL REFERENCES inv_hosts(id) ON DELETE RESTRICT,
  datastore_id TEXT NOT NULL REFERENCES inv_datastores(id) ON DELETE RESTRICT,
  folder_id TEXT REFERENCES inv_folders(id) ON DELETE RESTRICT,
  policy_id TEXT NOT NULL REFERENCES inv_policies(id) ON DELETE RESTRICT,
  vmx_path TEXT,
  -- observed (from the host)
  provisioned INTEGER NOT NULL DEFAULT 1,
  encrypted INTEGER NOT NULL DEFAULT 0,
  power_state TEXT NOT NULL DEFAULT 'poweredOff',
  locked INTEGER NOT NULL DEFAULT 0,
  lock_reason TEXT,
  observed_error TEXT,
  observed_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX inv_vms_host ON inv_vms(host_id);

-- observed: the KEK each part of the VM is wrapped with now
CREATE TABLE inv_vm_keys (
  vm_id TEXT NOT NULL REFERENCES inv_vms(id) ON DELETE CASCADE ON UPDATE CASCADE,
  part TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  PRIMARY KEY (vm_id, part)
);
CREATE INDEX inv_vm_keys_key ON inv_vm_keys(provider_id, key_id);

-- reconcile work in flight: one row per operation, steps recorded as they complete
CREATE TABLE inv_vm_operations (
  id TEXT PRIMARY KEY,
  vm_id TEXT NOT NULL REFERENCES inv_vms(id) ON DELETE CASCADE ON UPDATE CASCADE,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  step TEXT NOT NULL,
  spec TEXT NOT NULL,
  key_provider_id TEXT,
  key_id TEXT,
  error_code TEXT,
  error_message TEXT,
  user TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX inv_vm_operations_vm ON inv_vm_operations(vm_id, state);
`,
  },
  {
    name: 'inventory-002-vm-settings',
    sql: `
-- what the manager knows of a VM beyond its .vmx: features the encryption rules refuse
-- (fault tolerance, replication, content library, ports), the circular-dependency marks,
-- and instant-clone relations (parent and child keys frozen while either exists)
CREATE TABLE inv_vm_settings (
  vm_id TEXT PRIMARY KEY REFERENCES inv_vms(id) ON DELETE CASCADE ON UPDATE CASCADE,
  hosts_key_server INTEGER NOT NULL DEFAULT 0,
  hosts_manager INTEGER NOT NULL DEFAULT 0,
  fault_tolerance INTEGER NOT NULL DEFAULT 0,
  replication INTEGER NOT NULL DEFAULT 0,
  content_library INTEGER NOT NULL DEFAULT 0,
  serial_ports INTEGER NOT NULL DEFAULT 0,
  parallel_ports INTEGER NOT NULL DEFAULT 0,
  instant_clone_of TEXT
);
CREATE INDEX inv_vm_settings_ic ON inv_vm_settings(instant_clone_of);
`,
  },
  {
    name: 'inventory-003-migrate-encryption',
    sql: `
-- issue 14: the VM's encrypted vMotion setting (disabled | opportunistic | required)
ALTER TABLE inv_vm_settings ADD COLUMN migrate_encryption TEXT NOT NULL DEFAULT 'opportunistic';
`,
  },
];
