import { readFile, stat } from 'node:fs/promises';
import { VmcryptError } from '../../../errors.js';
import { seg } from '../../manager-client/client.js';
import type { KeyProviderInfo } from '../../manager-client/records.js';
import { findProvider } from '../../manager-client/resolve.js';
import { formatFields } from '../../output/table.js';
import type { Verb, VerbContext } from '../../verbs/verb.js';

const MAX_PEM = 64 * 1024;

async function pem(ctx: VerbContext, flag: string): Promise<string | undefined> {
  const file = ctx.str(flag);
  if (file === undefined) return undefined;
  const st = await stat(file).catch(() => undefined);
  if (st === undefined || !st.isFile()) throw ctx.usageError(`--${flag} ${file}: no such file`);
  if (st.size > MAX_PEM) throw new VmcryptError('PEM_TOO_LARGE', `--${flag} ${file}: larger than ${MAX_PEM} bytes, not a PEM file`);
  return readFile(file, 'utf8');
}

type Trust = NonNullable<KeyProviderInfo['trust']>;

function trustLines(id: string, t: Trust): string[] {
  return [
    `key provider ${id}:`,
    ...formatFields([
      ['trusted KMS certs', t.trustedServerCerts.map((c) => `${c.subjectCn ?? '?'} (${c.daysLeft ?? '?'} days, sha256 ${c.sha256Fingerprint?.slice(0, 16) ?? '?'}…)`).join('; ') || 'none'],
      ['client identity', t.clientIdentity === undefined ? 'none' : `${t.clientIdentity.subjectCn ?? '?'} (${t.clientIdentity.source ?? '?'}, ${t.clientIdentity.daysLeft ?? '?'} days)`],
      ['pending CSR', t.pendingCsr?.commonName],
    ]).map((l) => `  ${l}`),
  ];
}

/**
 * The four ways vSphere establishes trust with a KMS, as flags of one verb:
 * (a) --kms-cert: trust the KMS CA or server certificate; (b) --client-cert + --client-key: upload
 * a client identity the KMS CA signed; (c) --csr CN then --signed-cert; (d) --self-signed CN.
 */
export const kmsTrust: Verb = {
  words: ['trust'],
  summary: 'Show or establish trust between the manager and a key provider',
  usage: 'PROVIDER [--kms-cert PEM] [--client-cert PEM --client-key PEM [--kms-ca PEM]] [--csr CN] [--signed-cert PEM] [--self-signed CN] [--untrust SHA256]',
  options: {
    'kms-cert': { type: 'string' }, 'client-cert': { type: 'string' }, 'client-key': { type: 'string' }, 'kms-ca': { type: 'string' },
    csr: { type: 'string' }, 'signed-cert': { type: 'string' }, 'self-signed': { type: 'string' }, untrust: { type: 'string' },
  },
  details: [
    'Without flags: the trust in place. (a) --kms-cert trusts the KMS CA (or server) certificate;',
    '(b) --client-cert/--client-key upload a client certificate the KMS CA signed (the key goes to the',
    "manager's sealed store, never printed); (c) --csr CN prints a CSR for the KMS admin, --signed-cert",
    'uploads what they signed; (d) --self-signed CN makes a certificate to pin on the KMS (printed).',
  ],
  examples: [
    'vmcrypt kms trust kp1',
    'vmcrypt kms trust kp1 --kms-cert lab/kms/ca.crt --client-cert mgr.crt --client-key mgr.key',
    'vmcrypt kms trust kp1 --csr vmcrypt-manager > mgr.csr',
    'vmcrypt kms trust kp1 --signed-cert mgr-signed.crt',
  ],
  async run(ctx) {
    const c = await ctx.client();
    const p = await findProvider(c, ctx.arg(0, 'PROVIDER'));
    const base = `/api/key-providers/${seg(p.id)}/trust`;
    const out: Record<string, unknown> = {};
    const kmsCert = await pem(ctx, 'kms-cert');
    if (kmsCert !== undefined) out.kmsCert = await c.post<Trust>(`${base}/server-certificates`, { certPem: kmsCert });
    const untrust = ctx.str('untrust');
    if (untrust !== undefined) out.untrusted = await c.post<Trust>(`${base}/server-certificates/remove`, { sha256Fingerprint: untrust.toLowerCase().replace(/:/g, '') });
    const cert = await pem(ctx, 'client-cert');
    const key = await pem(ctx, 'client-key');
    if ((cert === undefined) !== (key === undefined)) throw ctx.usageError('--client-cert and --client-key go together');
    if (cert !== undefined && key !== undefined) {
      const ca = await pem(ctx, 'kms-ca');
      out.clientCertificate = await c.post<Trust>(`${base}/client-certificate`, { certPem: cert, keyPem: key, ...(ca === undefined ? {} : { kmsCaPem: ca }) });
    }
    const csr = ctx.str('csr');
    let csrPem: string | undefined;
    if (csr !== undefined) csrPem = (await c.post<{ csrPem: string }>(`${base}/csr`, { commonName: csr })).csrPem;
    const signed = await pem(ctx, 'signed-cert');
    if (signed !== undefined) out.signedCertificate = await c.post<Trust>(`${base}/signed-certificate`, { certPem: signed });
    const selfSigned = ctx.str('self-signed');
    let selfPem: { certPem: string; sha256Fingerprint: string } | undefined;
    if (selfSigned !== undefined) selfPem = await c.post<{ certPem: string; sha256Fingerprint: string }>(`${base}/self-signed`, { commonName: selfSigned });
    const trust = await c.get<Trust>(base);
    ctx.emit({ provider: p.id, trust, ...(csrPem === undefined ? {} : { csrPem }), ...(selfPem === undefined ? {} : { selfSigned: selfPem }) }, () => [
      ...(csrPem === undefined ? [] : [csrPem.trimEnd()]),
      ...(selfPem === undefined ? [] : [`# pin this certificate on the KMS (sha256 ${selfPem.sha256Fingerprint})`, selfPem.certPem.trimEnd()]),
      ...trustLines(p.id, trust),
    ]);
    return 0;
  },
};
