import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../contracts.js';
import type { Inventory } from '../inventory.js';
import { hostRoutes } from './host-routes.js';
import { policyRoutes } from './policy-routes.js';
import { treeRoutes } from './tree-routes.js';
import { vmRoutes } from './vm-routes.js';
import { vmOpsRoutes } from './vm-ops-routes.js';
import { migrateRoutes } from './migrate-routes.js';

/** The inventory's HTTP routes: folders, clusters, hosts, datastores, VMs, storage policies. */
export function inventoryRoutes(inv: Inventory): RouteModule {
  return (app: FastifyInstance) => {
    treeRoutes(app, inv);
    hostRoutes(app, inv);
    vmRoutes(app, inv);
    vmOpsRoutes(app, inv);
    migrateRoutes(app, inv);
    policyRoutes(app, inv);
  };
}
