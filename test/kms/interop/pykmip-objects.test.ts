import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { operationName } from '../../../src/kmip/operation-codes.js';
import { operationHandlers } from '../../../src/kms/handler-table.js';
import { repoRoot } from '../../helpers/cli.js';
import { useKmsForPykmip } from './kms-serve-for-pykmip.js';

const kms = useKmsForPykmip('vmcrypt-kms-objects-');

describe('PyKMIP client: secret data and opaque objects against vmcrypt kms serve', () => {
  it.each(['1.1', '1.2'])('registers, gets, locates and destroys each type (KMIP %s); Query lists what is served', async (version) => {
    const script = join(repoRoot, 'test', 'kms', 'interop', 'pykmip_objects.py');
    const r = await kms().python(script, version);
    expect(r.password).toEqual({ class: 'SecretData', same_value: true, bytes: 28, data_type: 'PASSWORD' });
    expect(r.seed).toEqual({ class: 'SecretData', same_value: true, bytes: 48, data_type: 'SEED' });
    expect(r.opaque).toEqual({ class: 'OpaqueObject', same_value: true, bytes: 13, data_type: 'NONE' });
    // Each run registers its own objects; Locate by Object Type finds them (and the other run's, if any).
    expect(r.locate_secret).toEqual(expect.arrayContaining([r.ids.password, r.ids.seed].sort()));
    expect(r.locate_secret).not.toContain(r.ids.opaque);
    expect(r.locate_opaque).toContain(r.ids.opaque);
    // KMIP 1.4 §4.21: the content of a destroyed object is gone: Item Not Found.
    for (const label of ['password', 'seed', 'opaque']) expect(r.get_after_destroy[label]).toMatch(/ITEM_NOT_FOUND/);
    expect(r.query_objects).toEqual(['CERTIFICATE', 'OPAQUE_DATA', 'PRIVATE_KEY', 'PUBLIC_KEY', 'SECRET_DATA', 'SPLIT_KEY', 'SYMMETRIC_KEY', 'TEMPLATE']);
    // Query Operations lists exactly the handler table, in PyKMIP's names (CreateKeyPair = CREATE_KEY_PAIR).
    const pykmipName = (op: number) => operationName(op).replace(/([a-z])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toUpperCase();
    expect(r.query_operations).toEqual([...operationHandlers.keys()].map(pykmipName).sort());
  });
});
