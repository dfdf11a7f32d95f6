import type { CliIo } from '../command.js';
import { parseCommandArgs, requireOption } from '../args.js';
import { UsageError } from '../../errors.js';
import { verifyAuditLog } from '../../kms/audit/audit-verify.js';
import { kmsPaths } from '../../kms/data-dir.js';

export const KMS_AUDIT_USAGE = 'vmcrypt kms audit verify --data DIR [--json]   (exit 0 intact, 1 broken: names the first edited/removed/reordered line)';

/** `vmcrypt kms audit verify`: walks audit.log.1 … audit.log and checks the hash chain. */
export async function kmsAuditCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== 'verify') throw new UsageError(`unknown 'kms audit ${verb ?? ''}'\nusage: ${KMS_AUDIT_USAGE}`);
  const { values } = parseCommandArgs(rest, { data: { type: 'string' }, json: { type: 'boolean' } }, KMS_AUDIT_USAGE);
  const dir = requireOption(values.data, '--data', KMS_AUDIT_USAGE);
  const r = await verifyAuditLog(kmsPaths(dir).auditLog);
  if (values.json === true) io.out(JSON.stringify(r));
  else if (r.ok) {
    io.out(`audit log intact: ${r.lines} chained lines in ${r.files.length} file(s)${r.legacyLines > 0 ? `, ${r.legacyLines} older unchained lines first` : ''}`);
    io.out(`head: seq ${r.head.seq} hash ${r.head.hash}   (record it elsewhere: a later rewrite of the tail would not match it)`);
  } else io.out(`audit log BROKEN: ${r.firstBreak?.message ?? 'unknown'}`);
  return r.ok ? 0 : 1;
}
