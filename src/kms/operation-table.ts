import { Operation } from '../kmip/operations.js';
import type { OperationHandler } from './context.js';
import { handleActivate } from './operations/activate.js';
import { handleAddAttribute } from './operations/add-attribute.js';
import { handleCreate } from './operations/create.js';
import { handleDeleteAttribute } from './operations/delete-attribute.js';
import { handleDestroy } from './operations/destroy.js';
import { handleDiscoverVersions } from './operations/discover-versions.js';
import { handleGet } from './operations/get.js';
import { handleGetAttributeList } from './operations/get-attribute-list.js';
import { handleGetAttributes } from './operations/get-attributes.js';
import { handleLocate } from './operations/locate.js';
import { handleModifyAttribute } from './operations/modify-attribute.js';
import { makeQueryHandler } from './operations/query.js';
import { handleRegister } from './operations/register.js';
import { handleRevoke } from './operations/revoke.js';

/** Every operation the key server implements; anything else is Operation Not Supported. */
export const operationHandlers: ReadonlyMap<number, OperationHandler> = new Map<number, OperationHandler>([
  [Operation.Create, handleCreate],
  [Operation.Register, handleRegister],
  [Operation.Locate, handleLocate],
  [Operation.Get, handleGet],
  [Operation.GetAttributes, handleGetAttributes],
  [Operation.GetAttributeList, handleGetAttributeList],
  [Operation.AddAttribute, handleAddAttribute],
  [Operation.ModifyAttribute, handleModifyAttribute],
  [Operation.DeleteAttribute, handleDeleteAttribute],
  [Operation.Activate, handleActivate],
  [Operation.Revoke, handleRevoke],
  [Operation.Destroy, handleDestroy],
  [Operation.Query, makeQueryHandler(() => [...operationHandlers.keys()])],
  [Operation.DiscoverVersions, handleDiscoverVersions],
]);
