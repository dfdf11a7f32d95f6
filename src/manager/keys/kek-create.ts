import { attr } from '../../kmip/attributes.js';
import type { EntityRef, KeyRef } from '../contracts.js';
import { ManagerError } from '../errors.js';
import type { KeyContext } from './context.js';

/** Custom attributes (KMIP 1.1 §3.39, client `x-…`) naming who asked for a key and for what. */
export const MANAGER_ATTRIBUTE = 'x-vmcrypt-manager';
export const ENTITY_ATTRIBUTE = 'x-vmcrypt-entity';

/**
 * Create (AES-256) + Activate in the provider, tagged with this manager's id and the entity.
 * Any failure posts the critical `key.createFailed` naming the entity and why, and records
 * nothing; a key left Pre-Active by a failed Activate is destroyed on a best-effort basis.
 */
export async function createKek(
  ctx: KeyContext,
  defaultProviderId: () => string,
  spec: { readonly providerId?: string; readonly entity: EntityRef; readonly user?: string },
): Promise<KeyRef> {
  let providerId = spec.providerId;
  const entityLabel = `${spec.entity.kind} ${spec.entity.id}`;
  try {
    providerId ??= defaultProviderId();
    const control = ctx.pool.get(providerId).control;
    const started = process.hrtime.bigint();
    const keyId = await control.create({
      length: 256,
      name: `vmcrypt ${entityLabel}`.slice(0, 200),
      attributes: [attr.text(MANAGER_ATTRIBUTE, ctx.store.managerId()), attr.text(ENTITY_ATTRIBUTE, `${spec.entity.kind}:${spec.entity.id}`)],
    });
    try {
      await control.activate(keyId);
    } catch (err) {
      await control.destroy(keyId).catch(() => undefined);
      throw err;
    }
    ctx.metrics.kmsLatency(providerId, 'CreateActivate', Number(process.hrtime.bigint() - started) / 1e9);
    ctx.store.recordKek(providerId, keyId, spec.entity, spec.user);
    ctx.platform.events.post({
      type: 'key.created',
      severity: 'info',
      entity: spec.entity,
      ...(spec.user === undefined ? {} : { user: spec.user }),
      message: `key ${keyId} created in key provider ${providerId} for ${entityLabel}`,
      data: { providerId, keyId },
    });
    return { providerId, keyId };
  } catch (err) {
    const why = (err as Error).message;
    ctx.platform.events.post({
      type: 'key.createFailed',
      severity: 'critical',
      entity: spec.entity,
      ...(spec.user === undefined ? {} : { user: spec.user }),
      message: `key creation failed on key provider ${providerId ?? '(none)'} for ${entityLabel}: ${why}`.slice(0, 2000),
      data: { providerId: providerId ?? '' },
    });
    if (err instanceof ManagerError) throw err;
    throw new ManagerError('MANAGER_KMS_UNREACHABLE', `key creation failed on key provider ${providerId ?? '(none)'} for ${entityLabel}: ${why}`, { cause: err });
  }
}
