import type { PeerCertificate } from 'node:tls';

/**
 * The validity window of a certificate. A pinned certificate skips the chain check (that is what
 * pinning is for), so nothing else would notice that it expired; an unparseable date counts as
 * outside the window. Used by the KMS for pinned clients and by the host agent for its manager.
 */
export function certificateValidityProblem(cert: Pick<PeerCertificate, 'valid_from' | 'valid_to'>, now: Date): string | undefined {
  const from = Date.parse(cert.valid_from);
  const to = Date.parse(cert.valid_to);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return 'has no readable validity dates';
  if (now.getTime() > to) return `expired on ${new Date(to).toISOString()}`;
  if (now.getTime() < from) return `is not valid before ${new Date(from).toISOString()}`;
  return undefined;
}
