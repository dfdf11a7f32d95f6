import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.js';
import { useKmsForPykmip } from './kms-serve-for-pykmip.js';

const kms = useKmsForPykmip('vmcrypt-kms-crypto-');

describe('PyKMIP client: cryptographic services and key wrapping against vmcrypt kms serve', () => {
  it.each(['1.2', '1.4'])('encrypt/decrypt, sign/verify, RSA-OAEP, mac, derive_key, wrapped get and register agree with pyca/cryptography (KMIP %s)', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'interop', 'pykmip_crypto.py');
    const r = await kms().python(script, version);
    expect(r.cbc).toEqual({ iv_bytes: 16, ct_bytes: 4112, local_decrypt: true, server_decrypt: true });
    expect(r.ctr).toEqual({ iv_returned: false, matches_local: true });
    if (version === '1.4') expect(r.gcm).toEqual({ iv_bytes: 12, tag_bytes: 16, local_decrypt: true, server_decrypt: true });
    expect(r.mac).toEqual({ uid: true, matches_local: true });
    expect(r.derive).toEqual({ pbkdf2: true, hmac_is_hkdf: true, nist800_108_counter: true, encrypt: true });
    expect(r.wrap).toEqual({ rfc3394: true, wrapping_data_names_kek: true, register_unwraps: true });
    expect(r.sign).toEqual({ bytes: 256, local_verify: true, server_verify: 'VALID', server_verify_other: 'INVALID' });
    expect(r.rsa_oaep_decrypt).toBe(true);
    expect(r.query_operations).toEqual(expect.arrayContaining(['ENCRYPT', 'DECRYPT', 'MAC', 'MAC_VERIFY', 'DERIVE_KEY', 'SIGN', 'SIGNATURE_VERIFY']));
  });
});
