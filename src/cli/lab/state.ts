import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../../fs/atomic-file.js';
import { LabError, LabErrorCode } from './errors.js';

/**
 * DIR/lab.json: the ports chosen on the first `lab up` (kept so a second run brings every
 * component back where the manager knows it) and, while a lab runs, its pid, control socket
 * and the pids of its children (what `lab down` and `host restart` need).
 */
export interface LabComponent {
  readonly name: string;
  readonly port: number;
  readonly pid?: number;
}

export interface LabRun {
  readonly pid: number;
  readonly socket: string;
  readonly state: 'starting' | 'ready';
  readonly consoleUrl?: string;
  readonly children: readonly LabComponent[];
}

export interface LabState {
  readonly version: 1;
  readonly kmsMode: 'single' | 'cluster';
  /** The single KMS's port (kmsMode single); a cluster keeps its ports in DIR/kms-cluster/cluster.json. */
  readonly kmsPort?: number;
  readonly managers: readonly LabComponent[];
  readonly hosts: readonly LabComponent[];
  readonly run?: LabRun;
}

const MAX_STATE_BYTES = 64 * 1024;
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const labStatePath = (dir: string): string => join(dir, 'lab.json');

export async function readLabState(dir: string): Promise<LabState | undefined> {
  const path = labStatePath(dir);
  if (!existsSync(path)) return undefined;
  const text = await readFile(path, 'utf8');
  if (text.length > MAX_STATE_BYTES) throw bad(path, 'too large');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad(path, 'not JSON');
  }
  return parseLabState(raw, path);
}

/** Written whole or not at all, mode 0600 (it names the control socket). */
export async function writeLabState(dir: string, state: LabState): Promise<void> {
  await writeAtomically(labStatePath(dir), (fh) => fh.writeFile(JSON.stringify(state, null, 2) + '\n', 'utf8'));
}

function bad(path: string, why: string): LabError {
  return new LabError(LabErrorCode.BAD_STATE, `${path} is not a lab state written by vmcrypt (${why}); move it away or use another --dir`);
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
const isPid = (p: unknown): p is number => Number.isInteger(p) && (p as number) > 1;

function parseComponents(v: unknown, path: string, what: string): LabComponent[] {
  if (!Array.isArray(v) || v.length > 16) throw bad(path, `${what} must be a list of at most 16`);
  return v.map((c: unknown) => {
    const o = c as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object' || typeof o['name'] !== 'string' || !NAME_RE.test(o['name']) || !isPort(o['port'])) {
      throw bad(path, `${what}: each needs a name and a port`);
    }
    if (o['pid'] !== undefined && !isPid(o['pid'])) throw bad(path, `${what}: bad pid`);
    return { name: o['name'], port: o['port'], ...(o['pid'] === undefined ? {} : { pid: o['pid'] as number }) };
  });
}

export function parseLabState(raw: unknown, path: string): LabState {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || o['version'] !== 1) throw bad(path, 'version');
  const kmsMode = o['kmsMode'];
  if (kmsMode !== 'single' && kmsMode !== 'cluster') throw bad(path, 'kmsMode');
  if (kmsMode === 'single' && !isPort(o['kmsPort'])) throw bad(path, 'kmsPort');
  const state: LabState = {
    version: 1,
    kmsMode,
    ...(isPort(o['kmsPort']) ? { kmsPort: o['kmsPort'] } : {}),
    managers: parseComponents(o['managers'], path, 'managers'),
    hosts: parseComponents(o['hosts'], path, 'hosts'),
  };
  const r = o['run'] as Record<string, unknown> | null | undefined;
  if (r === undefined || r === null) return state;
  if (typeof r !== 'object' || !isPid(r['pid']) || typeof r['socket'] !== 'string' || r['socket'].length > 4096) throw bad(path, 'run');
  if (r['state'] !== 'starting' && r['state'] !== 'ready') throw bad(path, 'run.state');
  const consoleUrl = r['consoleUrl'];
  if (consoleUrl !== undefined && (typeof consoleUrl !== 'string' || consoleUrl.length > 256)) throw bad(path, 'run.consoleUrl');
  return {
    ...state,
    run: {
      pid: r['pid'], socket: r['socket'], state: r['state'],
      ...(consoleUrl === undefined ? {} : { consoleUrl }),
      children: parseComponents(r['children'], path, 'run.children'),
    },
  };
}
