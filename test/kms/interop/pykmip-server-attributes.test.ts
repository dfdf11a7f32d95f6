import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.js';
import { useKmsForPykmip } from './kms-serve-for-pykmip.js';

// PyKMIP's client against the KMIP 1.4 server-kept attributes (Fresh, Lease Time, Sensitive,
// Extractable, Always Sensitive, Never Extractable, Random Number Generator): its Get still works
// (Fresh then turns false); a KMIP 1.2 client is answered without the 1.3/1.4 attributes.
const kms = useKmsForPykmip('vmcrypt-kms-attrs-py-');

describe('PyKMIP client: server-kept attributes against vmcrypt kms serve', () => {
  it.each(['1.2', '1.4'])('reads Fresh / Lease Time / Sensitive, Gets the key (Fresh turns false), lists every attribute (KMIP %s)', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'interop', 'pykmip_server_attributes.py');
    const r = await kms().python(script, version) as {
      all_names?: string[];
      all_error?: string;
      list: string[];
      before: Record<string, unknown>;
      after: Record<string, unknown>;
      key_len: number;
      pair_names: string[][];
      pub_der_len: number;
    };
    const since13 = ['Random Number Generator', 'Sensitive', 'Always Sensitive', 'Extractable', 'Never Extractable'];
    const kept = version === '1.4' ? ['Fresh', 'Lease Time', ...since13] : ['Fresh', 'Lease Time'];
    expect(r.list).toEqual(expect.arrayContaining(kept));
    for (const names of r.pair_names) expect(names).toEqual(expect.arrayContaining(kept));
    // PyKMIP 0.10 decodes no Get Attributes answer of all attributes from a server that keeps
    // Original Creation Date (it has no value type for it — so before these attributes too), nor,
    // speaking 1.4, Always Sensitive / Extractable / Never Extractable / Random Number Generator.
    expect(r.all_error).toMatch(/ORIGINAL_CREATION_DATE|No value type for/);
    if (version === '1.2') {
      // A KMIP 1.2 client is not sent the 1.3 / 1.4 attributes.
      for (const n of since13) expect(r.list).not.toContain(n);
      expect(r.before).toEqual({ Fresh: true, 'Lease Time': 3600 });
    } else {
      expect(r.before).toEqual({ Fresh: true, 'Lease Time': 3600, Sensitive: false });
    }
    expect(r.key_len).toBe(32);
    expect(r.after).toEqual({ Fresh: false });
    expect(r.pub_der_len).toBeGreaterThan(200);
  });
});
