import { Etcd3 } from 'etcd3';
import { etcdCredentials, type EtcdTlsOptions } from './etcd-client.js';

/** One etcd member as seen from its own client URL. */
export interface EtcdMemberStatus {
  readonly endpoint: string;
  readonly reachable: boolean;
  readonly isLeader: boolean;
  readonly version: string | null;
  readonly raftTerm: number | null;
  readonly raftIndex: number | null;
  readonly dbSizeBytes: number | null;
  /** Alarms the member reports (e.g. NOSPACE), or why it could not be reached. */
  readonly errors: readonly string[];
}

export interface EtcdClusterStatus {
  readonly members: readonly EtcdMemberStatus[];
  /** A leader is known and a majority of the given endpoints answer: writes can commit. */
  readonly quorum: boolean;
}

/**
 * Asks every endpoint for its status (Maintenance.Status, one per member, in parallel, each
 * bounded by `timeoutMs`). For `kms cluster status` and health views; never throws for a dead
 * member, it is reported as unreachable.
 */
export async function etcdClusterStatus(
  endpoints: readonly string[],
  opts: { readonly timeoutMs?: number; readonly tls?: EtcdTlsOptions } = {},
): Promise<EtcdClusterStatus> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const members = await Promise.all(
    endpoints.map(async (endpoint): Promise<EtcdMemberStatus> => {
      const client = new Etcd3({ hosts: [endpoint], dialTimeout: timeoutMs, ...etcdCredentials(opts.tls) });
      try {
        const st = await client.maintenance.status({ deadline: new Date(Date.now() + timeoutMs) });
        return {
          endpoint,
          reachable: true,
          isLeader: st.leader === st.header.member_id,
          version: st.version,
          raftTerm: Number(st.raftTerm),
          raftIndex: Number(st.raftIndex),
          dbSizeBytes: Number(st.dbSize),
          errors: [...(st.errors ?? [])],
        };
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        return { endpoint, reachable: false, isLeader: false, version: null, raftTerm: null, raftIndex: null, dbSizeBytes: null, errors: [why.slice(0, 300)] };
      } finally {
        client.close();
      }
    }),
  );
  const up = members.filter((m) => m.reachable).length;
  return { members, quorum: members.some((m) => m.isLeader) && up > endpoints.length / 2 };
}
