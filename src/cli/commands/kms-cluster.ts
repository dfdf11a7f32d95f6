import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { CliIo } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { layoutPath, loadOrCreateLayout } from './kms-cluster-layout.js';
import { startKmsCluster } from './kms-cluster-start.js';
import { clusterEtcdPkiPaths, hasClusterEtcdPki } from './kms-cluster-tls.js';

/**
 * `vmcrypt kms cluster up|status`. What `up` starts is in kms-cluster-start.ts, the recorded
 * ports in kms-cluster-layout.ts; this file is the command line only.
 */
export const KMS_CLUSTER_USAGE =
  'vmcrypt kms cluster up [--dir DIR] [--nodes 3] [--etcd-members 3] [--etcd-only] [--insecure-plain-etcd] [--json]\n' +
  '       vmcrypt kms cluster status (--dir DIR | --etcd URL,URL…) [--json]';

/**
 * `vmcrypt kms cluster <verb>`; helper A hooks this into `kms` (`kms cluster …` → args after
 * "cluster"). Runs in the foreground until SIGINT/SIGTERM, then stops every process it started.
 */
export async function kmsClusterCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'status') return clusterStatusCommand(rest, io);
  if (verb !== 'up') throw new UsageError(`unknown 'kms cluster ${verb ?? ''}'\nusage: ${KMS_CLUSTER_USAGE}`);
  const { values } = parseCommandArgs(
    rest,
    {
      dir: { type: 'string' },
      nodes: { type: 'string' },
      'etcd-members': { type: 'string' },
      'etcd-only': { type: 'boolean' },
      'insecure-plain-etcd': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    KMS_CLUSTER_USAGE,
  );
  const count = (v: string | undefined, def: number, flag: string, min: number): number => {
    const n = v === undefined ? def : Number(v);
    if (!Number.isInteger(n) || n < min || n > 9) throw new UsageError(`${flag} must be an integer ${min}..9\nusage: ${KMS_CLUSTER_USAGE}`);
    return n;
  };
  const members = count(values['etcd-members'], 3, '--etcd-members', 1);
  const nodes = values['etcd-only'] === true ? 0 : count(values.nodes, 3, '--nodes', 1);
  const dir = values.dir ?? join(tmpdir(), 'vmcrypt-kms-cluster');
  const cluster = await startKmsCluster({ dir, kmsNodes: nodes, etcdMembers: members, plainEtcd: values['insecure-plain-etcd'] === true, warn: (l) => io.err(l) });
  const summary = {
    dir: cluster.dir,
    etcd: cluster.etcd.members.map((m) => m.clientUrl),
    etcdTls: cluster.etcdPki === undefined ? null : { ca: cluster.etcdPki.caFile, cert: cluster.etcdPki.clientCertFile, key: cluster.etcdPki.clientKeyFile },
    kms: cluster.nodes.map((n) => n.address),
    kmsData: cluster.kmsDataDir,
    logs: join(cluster.dir, 'logs'),
  };
  if (values.json === true) io.out(JSON.stringify(summary));
  else {
    io.out(`etcd members : ${summary.etcd.join(',')}`);
    if (summary.kms.length > 0) {
      io.out(`KMS nodes    : ${summary.kms.join(' ')}   (key provider order as listed)`);
      io.out(`KMS data     : ${summary.kmsData}   (master key, CA, manager client certificate from 'vmcrypt kms init')`);
    }
    io.out(`logs         : ${summary.logs}`);
    io.out('running; Ctrl-C stops every process (keys stay in etcd; run the same command again to restart)');
  }
  await new Promise<void>((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
    process.once('SIGHUP', res); // terminal closed: stop the children too
  });
  await cluster.stop();
  return 0;
}

/** `kms cluster status`: each etcd member's health, and whether writes can commit. Exit 0 with quorum, 1 without. */
async function clusterStatusCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { dir: { type: 'string' }, etcd: { type: 'string' }, json: { type: 'boolean' } }, KMS_CLUSTER_USAGE);
  // Loaded here: the etcd (gRPC) client is only needed by this verb, not by every `vmcrypt kms …`.
  const { parseEtcdEndpoints } = await import('../../kms/store/etcd.js');
  const { etcdClusterStatus } = await import('../../kms/store/etcd-status.js');
  let endpoints: string[];
  let tls: { caPem: string; certPem: string; keyPem: string } | undefined;
  if (values.etcd !== undefined) endpoints = parseEtcdEndpoints(values.etcd);
  else if (values.dir !== undefined) {
    const path = layoutPath(resolve(values.dir));
    if (!existsSync(path)) throw new UsageError(`${path} does not exist: is this a 'kms cluster up' directory?`);
    const layout = await loadOrCreateLayout(resolve(values.dir), 0, 0);
    const secure = hasClusterEtcdPki(resolve(values.dir));
    endpoints = layout.etcd.map((m) => `${secure ? 'https' : 'http'}://127.0.0.1:${m.clientPort}`);
    if (secure) {
      const p = clusterEtcdPkiPaths(resolve(values.dir));
      const { readFile } = await import('node:fs/promises');
      tls = { caPem: await readFile(p.caFile, 'utf8'), certPem: await readFile(p.clientCertFile, 'utf8'), keyPem: await readFile(p.clientKeyFile, 'utf8') };
    }
  } else throw new UsageError(`give --dir or --etcd\nusage: ${KMS_CLUSTER_USAGE}`);
  const status = await etcdClusterStatus(endpoints, tls === undefined ? {} : { tls });
  if (values.json === true) io.out(JSON.stringify(status));
  else {
    for (const m of status.members) {
      const state = !m.reachable ? 'UNREACHABLE' : m.isLeader ? 'leader' : 'follower';
      const detail = m.reachable ? `etcd ${m.version} term ${m.raftTerm} index ${m.raftIndex} db ${m.dbSizeBytes} B` : '';
      io.out(`${m.endpoint.padEnd(26)} ${state.padEnd(12)} ${detail}${m.errors.length > 0 ? `  (${m.errors.join('; ')})` : ''}`);
    }
    io.out(status.quorum ? 'quorum: yes (writes can commit)' : 'quorum: NO — writes fail with STORE_UNAVAILABLE until a majority of members is back');
  }
  return status.quorum ? 0 : 1;
}
