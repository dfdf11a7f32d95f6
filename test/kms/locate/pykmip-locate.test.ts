import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.js';
import { useKmsForPykmip } from '../interop/kms-serve-for-pykmip.js';

const kms = useKmsForPykmip('vmcrypt-kms-locate-py-');

describe('PyKMIP client: Locate (served from the index) against vmcrypt kms serve', () => {
  it.each(['1.2', '1.4'])('locates by name, algorithm and length, Maximum/Offset Items and State (KMIP %s)', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'locate', 'pykmip_locate.py');
    const tag = `py-${version}`;
    const r = await kms().python(script, version, tag) as Record<string, string[]> & { ids: string[] };
    const [k0, , k2, k3] = r.ids;
    expect(r['by_name']).toEqual([k2]);
    expect(r['aes256']).toEqual([k3, k2]); // newest first
    expect(r['max1']).toEqual([k3]); // the newest key of this identity
    if (version === '1.4') expect(r['offset1']).toEqual([k2]);
    expect(r['destroyed_plain']).toEqual([]);
    expect(r['destroyed_by_state']).toEqual([k0]);
    expect(r['destroyed_attribute_names']).toEqual(expect.arrayContaining(['Destroy Date', 'State', 'Name', 'Unique Identifier']));
  });
});
