import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.js';

// The Migrate… form's verdict (console/public/js/migrate-form.js, plain browser JS importable in
// Node) against the manager's migrateEncryption matrix, given both hosts' `migration` from /api/hosts.
interface Host { id: string; name: string; migration?: { encryption: boolean; channels: string[] } }
interface Verdict { text: string; kind: string; encrypted: string }
type MoveEncryption = (vm: unknown, setting: string, move: { hostChange: boolean; dsChange: boolean }, ends?: { source?: Host; destination?: Host }) => Verdict;

let moveEncryption: MoveEncryption;
beforeAll(async () => {
  const url = pathToFileURL(join(repoRoot, 'src/manager/console/public/js/migrate-form.js')).href;
  ({ moveEncryption } = (await import(url)) as { moveEncryption: MoveEncryption });
});

const vm = (encrypted: boolean) => ({ observed: { encrypted, powerState: 'poweredOn' } });
const live = { hostChange: true, dsChange: false };
const able: Host = { id: 'h1', name: 'esx1', migration: { encryption: true, channels: ['tunnel', 'qemu-psk', 'plain'] } };
const unable: Host = { id: 'h2', name: 'esx2', migration: { encryption: false, channels: ['plain'] } };
const unknown: Host = { id: 'h3', name: 'esx3' };

describe('Migrate… form verdict with the hosts\' migration capability', () => {
  it('both hosts able: encrypted, whatever the setting but disabled', () => {
    for (const setting of ['opportunistic', 'required']) {
      expect(moveEncryption(vm(false), setting, live, { source: able, destination: able }).text).toBe('encrypted (one-time AES-256-GCM key)');
    }
    expect(moveEncryption(vm(true), 'disabled', live, { source: able, destination: able }).text).toBe('encrypted (one-time AES-256-GCM key)');
    expect(moveEncryption(vm(false), 'disabled', live, { source: able, destination: able }).encrypted).toBe('NOT encrypted');
  });

  it('one host unable: opportunistic goes plain with a warning, required and encrypted VMs are refused, naming the host', () => {
    const ends = { source: able, destination: unable };
    expect(moveEncryption(vm(false), 'opportunistic', live, ends)).toMatchObject({ text: 'plain (host esx2 cannot encrypt migrations): a warning event', encrypted: 'NOT encrypted' });
    expect(moveEncryption(vm(false), 'required', live, ends)).toMatchObject({ text: 'refused: migrateEncryption is required and host esx2 cannot encrypt migrations', encrypted: 'refused' });
    expect(moveEncryption(vm(true), 'disabled', live, ends).text).toBe('refused: the VM is encrypted (it migrates only encrypted) and host esx2 cannot encrypt migrations');
    expect(moveEncryption(vm(false), 'opportunistic', live, { source: unable, destination: { ...unable, name: 'esx4' } }).text)
      .toBe('plain (host esx2 and host esx4 cannot encrypt migrations): a warning event');
  });

  it('both able but no encrypted channel in common: as the manager says it', () => {
    const psk: Host = { ...able, migration: { encryption: true, channels: ['qemu-psk'] } };
    const tunnel: Host = { ...able, name: 'esx5', migration: { encryption: true, channels: ['tunnel'] } };
    expect(moveEncryption(vm(false), 'required', live, { source: psk, destination: tunnel }).text).toBe('refused: migrateEncryption is required and the hosts share no encrypted channel');
  });

  it('a host not yet polled: today\'s conditional text; no memory stream: no verdict about hosts', () => {
    expect(moveEncryption(vm(false), 'opportunistic', live, { source: able, destination: unknown }).encrypted).toBe('encrypted when both hosts can');
    expect(moveEncryption(vm(false), 'opportunistic', live).encrypted).toBe('encrypted when both hosts can');
    expect(moveEncryption(vm(false), 'required', { hostChange: false, dsChange: true }, { source: able, destination: unable }).encrypted).toBe('no memory stream');
  });
});
