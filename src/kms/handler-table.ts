import { Operation } from '../kmip/operation-codes.js';
import type { OperationHandler } from './context.js';
import { handleActivate } from './handlers/activate.js';
import { handleAddAttribute } from './handlers/add-attribute.js';
import { handleCreate } from './handlers/create.js';
import { handleCreateKeyPair } from './handlers/create-key-pair.js';
import { handleDeleteAttribute } from './handlers/delete-attribute.js';
import { handleDestroy } from './handlers/destroy.js';
import { handleDiscoverVersions } from './handlers/discover-versions.js';
import { handleGet, handleGetToWrap } from './handlers/get.js';
import { handleGetAttributeList } from './handlers/get-attribute-list.js';
import { handleGetAttributes } from './handlers/get-attributes.js';
import { handleLocate } from './handlers/locate.js';
import { handleModifyAttribute } from './handlers/modify-attribute.js';
import { makeQueryHandler } from './handlers/query.js';
import { handleRegister } from './handlers/register.js';
import { handleRevoke } from './handlers/revoke.js';
import { handleDecrypt } from './handlers/decrypt.js';
import { handleDeriveKey } from './handlers/derive-key.js';
import { handleEncrypt } from './handlers/encrypt.js';
import { handleMac } from './handlers/mac.js';
import { handleMacVerify } from './handlers/mac-verify.js';
import { handleHash } from './handlers/hash.js';
import { handleRngRetrieve } from './handlers/rng-retrieve.js';
import { handleRngSeed } from './handlers/rng-seed.js';
import { handleSign } from './handlers/sign.js';
import { handleSignatureVerify } from './handlers/signature-verify.js';
import { withKeyUnwrapping } from './key-wrap/unwrap-on-register.js';
import { withKeyWrapping } from './key-wrap/wrap-on-get.js';

/** Every operation the key server implements; anything else is Operation Not Supported. */
export const operationHandlers: ReadonlyMap<number, OperationHandler> = new Map<number, OperationHandler>([
  [Operation.Create, handleCreate],
  [Operation.CreateKeyPair, handleCreateKeyPair],
  [Operation.Register, withKeyUnwrapping(handleRegister)],
  [Operation.Locate, handleLocate],
  [Operation.Get, withKeyWrapping(handleGet, handleGetToWrap)],
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
  // Cryptographic services (KMIP 1.2+ §4.29–4.34) and Derive Key (§4.6): src/kms/crypto-services/
  [Operation.Encrypt, handleEncrypt],
  [Operation.Decrypt, handleDecrypt],
  [Operation.MAC, handleMac],
  [Operation.MACVerify, handleMacVerify],
  [Operation.Sign, handleSign],
  [Operation.SignatureVerify, handleSignatureVerify],
  [Operation.Hash, handleHash],
  [Operation.RNGRetrieve, handleRngRetrieve],
  [Operation.RNGSeed, handleRngSeed],
  [Operation.DeriveKey, handleDeriveKey],
]);
