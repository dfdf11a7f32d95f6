import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/cli.js';
import { useKmsForPykmip } from './kms-serve-for-pykmip.js';

const kms = useKmsForPykmip('vmcrypt-kms-key-pair-');

describe('PyKMIP client: key pairs, certificates, asymmetric keys, 3DES, split keys, templates against vmcrypt kms serve', () => {
  it.each(['1.1', '1.2'])('KMIP %s', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'interop', 'pykmip_key_pair_objects.py');
    const r = await kms().python(script, version);
    expect(r.key_pair).toEqual({
      distinct_ids: true,
      public: ['PublicKey', 'RSA', 2048, 'PKCS_1'],
      private: ['PrivateKey', 'RSA', 2048, 'PKCS_8'],
      public_matches_private: true,
      signature_verified: true,
      private_mask: 1, // Sign, as asked
    });
    expect(r.ec_key_pair).toEqual(['X_509', 'PKCS_8', 256, 'verified']);
    expect(r.certificate).toEqual({ class: 'X509Certificate', same_value: true });
    expect(r.rsa_private_pkcs8).toEqual({ class: 'PrivateKey', same_value: true, format: 'PKCS_8', algorithm: 'RSA', length: 2048 });
    expect(r.rsa_public_pkcs1).toEqual({ class: 'PublicKey', same_value: true, format: 'PKCS_1', algorithm: 'RSA', length: 2048 });
    expect(r.ec_private_pkcs8).toEqual({ class: 'PrivateKey', same_value: true, format: 'PKCS_8', algorithm: 'EC', length: 384 });
    expect(r.ec_public_x509).toEqual({ class: 'PublicKey', same_value: true, format: 'X_509', algorithm: 'EC', length: 384 });
    expect(r.rsa_private_as_pkcs1).toBe(true);
    expect(r['3des_created']).toEqual(['TRIPLE_DES', 192, 24]);
    expect(r['3des_registered']).toEqual(['TRIPLE_DES', 192, true]);
    expect(r.split_key).toEqual({ class: 'SplitKey', same_value: true, parts: 3, id: 2, threshold: 2, method: 'XOR' });
    expect(r.template).toEqual({ registered: 'SUCCESS', created: 'SUCCESS', key: ['AES', 192] });
  });
});
