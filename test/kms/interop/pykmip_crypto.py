"""Drives Debian's PyKMIP client (kmip.pie.client.ProxyKmipClient) through vmcrypt's cryptographic services.

usage: pykmip_crypto.py HOST PORT CERT KEY CA VERSION(1.2|1.4)
Encrypt/Decrypt (CBC with a server-drawn IV, CTR with the client's; GCM with AAD and tag on 1.4),
Sign / Signature Verify (RSA-PSS) and RSA-OAEP Decrypt with a created key pair, MAC, Derive Key (PBKDF2, HMAC/HKDF, NIST SP 800-108 counter, Encrypt), Get with key wrapping
(RFC 3394) and Register of the wrapped key. Every answer is checked against an independent
computation with the `cryptography` package on the key fetched with Get.
Prints one JSON object of booleans and lengths (never secret bytes); exits non-zero on failure.
"""
import enum
import hashlib
import hmac
import json
import os
import sys
import tempfile

from cryptography.hazmat.primitives import hashes, keywrap, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, CounterLocation, Mode
from kmip import enums
from kmip.core import objects as cobjects
from kmip.core.messages import messages, payloads
from kmip.core.messages.contents import Operation
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version = sys.argv[1:7]
kmip_version = {"1.2": enums.KMIPVersion.KMIP_1_2, "1.4": enums.KMIPVersion.KMIP_1_4}[version]
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("[client]\n")
conf.close()
M = enums.CryptographicUsageMask
out = {}


def enum_name(o):
    return o.name if isinstance(o, enum.Enum) else o.value.name


def new_key(client, masks, algorithm=enums.CryptographicAlgorithm.AES, length=256):
    uid = client.create(algorithm, length, cryptographic_usage_mask=masks)
    client.activate(uid)
    return uid, client.get(uid).value


def raw(client, operation, payload):
    """One request built from PyKMIP's own payload classes (for fields ProxyKmipClient does not expose)."""
    item = messages.RequestBatchItem(operation=Operation(operation), request_payload=payload)
    response = client.proxy._send_and_receive_message(client.proxy._build_request_message(None, [item]))
    batch = response.batch_items[0]
    if batch.result_status.value != enums.ResultStatus.SUCCESS:
        raise RuntimeError("{}: {}".format(operation.name, batch.result_message.value))
    return batch.response_payload


def ttlv_items(data):
    """(tag, type, value) of every item of a TTLV message, depth first (a reader for the reply only)."""
    i = 0
    while i + 8 <= len(data):
        tag = int.from_bytes(data[i:i + 3], "big")
        typ = data[i + 3]
        n = int.from_bytes(data[i + 4:i + 8], "big")
        value = data[i + 8:i + 8 + n]
        yield tag, typ, value
        if typ == 0x01:
            i += 8
        else:
            i += 8 + n + (8 - n % 8) % 8


def wrapped_get(client, uid, spec):
    """Get with a Key Wrapping Specification, encoded by PyKMIP; the reply read raw, because PyKMIP
    0.10 decodes only its own non-standard form (a wrapped Key Value inside a Key Value structure;
    KMIP 1.4 §2.1.3 and the OASIS test cases send it as a Byte String)."""
    payload = payloads.GetRequestPayload(unique_identifier=uid, key_wrapping_specification=client._build_key_wrapping_specification(spec))
    item = messages.RequestBatchItem(operation=Operation(enums.Operation.GET), request_payload=payload)
    client.proxy._send_message(client.proxy._build_request_message(None, [item]))
    reply = bytes(client.proxy.protocol.read().buffer)
    items = list(ttlv_items(reply))
    value = [v for t, typ, v in items if t == 0x420045 and typ == 0x08]
    ids = [v.decode() for t, typ, v in items if t == 0x420094 and typ == 0x07]
    if len(value) != 1:
        raise RuntimeError("no wrapped Key Value in the Get reply")
    return value[0], ids[-1]


client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca, config_file=conf.name, kmip_version=kmip_version)
with client:
    uid, k = new_key(client, [M.ENCRYPT, M.DECRYPT])
    data = os.urandom(4096)

    cbc = {"cryptographic_algorithm": enums.CryptographicAlgorithm.AES, "block_cipher_mode": enums.BlockCipherMode.CBC, "padding_method": enums.PaddingMethod.PKCS5}
    ct, iv = client.encrypt(data, uid=uid, cryptographic_parameters=cbc)
    d = Cipher(algorithms.AES(k), modes.CBC(iv)).decryptor()
    u = padding.PKCS7(128).unpadder()
    local = u.update(d.update(ct) + d.finalize()) + u.finalize()
    back = client.decrypt(ct, uid=uid, cryptographic_parameters=cbc, iv_counter_nonce=iv)
    out["cbc"] = {"iv_bytes": len(iv), "ct_bytes": len(ct), "local_decrypt": local == data, "server_decrypt": back == data}

    ctr = {"cryptographic_algorithm": enums.CryptographicAlgorithm.AES, "block_cipher_mode": enums.BlockCipherMode.CTR}
    nonce = os.urandom(16)
    ct, iv = client.encrypt(data, uid=uid, cryptographic_parameters=ctr, iv_counter_nonce=nonce)
    e = Cipher(algorithms.AES(k), modes.CTR(nonce)).encryptor()
    out["ctr"] = {"iv_returned": iv is not None, "matches_local": ct == e.update(data) + e.finalize()}

    if kmip_version == enums.KMIPVersion.KMIP_1_4:
        aad = b"vm-7/nvram"
        params = cobjects.CryptographicParameters(block_cipher_mode=enums.BlockCipherMode.GCM, cryptographic_algorithm=enums.CryptographicAlgorithm.AES, tag_length=16)
        r = raw(client, enums.Operation.ENCRYPT, payloads.EncryptRequestPayload(unique_identifier=uid, cryptographic_parameters=params, data=data, auth_additional_data=aad))
        local = AESGCM(k).decrypt(r.iv_counter_nonce, r.data + r.auth_tag, aad)
        back = raw(client, enums.Operation.DECRYPT, payloads.DecryptRequestPayload(unique_identifier=uid, cryptographic_parameters=params, data=r.data, iv_counter_nonce=r.iv_counter_nonce, auth_additional_data=aad, auth_tag=r.auth_tag))
        out["gcm"] = {"iv_bytes": len(r.iv_counter_nonce), "tag_bytes": len(r.auth_tag), "local_decrypt": local == data, "server_decrypt": back.data == data}

    mac_uid, mk = new_key(client, [M.MAC_GENERATE, M.MAC_VERIFY])
    got_uid, mac = client.mac(b"message to authenticate", uid=mac_uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
    out["mac"] = {"uid": got_uid == mac_uid, "matches_local": mac == hmac.new(mk, b"message to authenticate", hashlib.sha256).digest()}

    derive = {}
    pw = objects.SecretData(b"correct horse battery staple", enums.SecretDataType.PASSWORD, masks=[M.DERIVE_KEY])
    pw_uid = client.register(pw)
    client.activate(pw_uid)
    salt = os.urandom(16)
    new = client.derive_key(enums.ObjectType.SYMMETRIC_KEY, [pw_uid], enums.DerivationMethod.PBKDF2,
                            {"cryptographic_parameters": {"hashing_algorithm": enums.HashingAlgorithm.SHA_256}, "salt": salt, "iteration_count": 1000},
                            cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=256)
    derive["pbkdf2"] = client.get(new).value == hashlib.pbkdf2_hmac("sha256", b"correct horse battery staple", salt, 1000, 32)

    base_uid, bk = new_key(client, [M.DERIVE_KEY])
    info = b"vmcrypt derivation test"
    sha256 = {"hashing_algorithm": enums.HashingAlgorithm.SHA_256}
    new = client.derive_key(enums.ObjectType.SYMMETRIC_KEY, [base_uid], enums.DerivationMethod.HMAC,
                            {"cryptographic_parameters": sha256, "derivation_data": info, "salt": salt},
                            cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=128)
    derive["hmac_is_hkdf"] = client.get(new).value == HKDF(hashes.SHA256(), 16, salt, info).derive(bk)
    new = client.derive_key(enums.ObjectType.SYMMETRIC_KEY, [base_uid], enums.DerivationMethod.NIST800_108_C,
                            {"cryptographic_parameters": sha256, "derivation_data": info},
                            cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=256)
    kbkdf = KBKDFHMAC(hashes.SHA256(), Mode.CounterMode, 32, 4, None, CounterLocation.BeforeFixed, None, None, info)
    derive["nist800_108_counter"] = client.get(new).value == kbkdf.derive(bk)
    block = os.urandom(32)
    new = client.derive_key(enums.ObjectType.SYMMETRIC_KEY, [base_uid], enums.DerivationMethod.ENCRYPT,
                            {"cryptographic_parameters": {"block_cipher_mode": enums.BlockCipherMode.ECB, "padding_method": enums.PaddingMethod.NONE,
                                                          "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}, "derivation_data": block},
                            cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=256)
    e = Cipher(algorithms.AES(bk), modes.ECB()).encryptor()
    derive["encrypt"] = client.get(new).value == e.update(block) + e.finalize()
    out["derive"] = derive

    kek_uid, kek = new_key(client, [M.WRAP_KEY, M.UNWRAP_KEY])
    spec = {"wrapping_method": enums.WrappingMethod.ENCRYPT,
            "encryption_key_information": {"unique_identifier": kek_uid, "cryptographic_parameters": {"block_cipher_mode": enums.BlockCipherMode.NIST_KEY_WRAP}},
            "encoding_option": enums.EncodingOption.NO_ENCODING}
    wrapped_value, wrapping_kek = wrapped_get(client, uid, spec)
    wrap = {"rfc3394": wrapped_value == keywrap.aes_key_wrap(kek, k), "wrapping_data_names_kek": wrapping_kek == kek_uid}
    again = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, wrapped_value, masks=[M.ENCRYPT],
                                 key_wrapping_data={"wrapping_method": enums.WrappingMethod.ENCRYPT,
                                                    "encryption_key_information": {"unique_identifier": kek_uid},
                                                    "encoding_option": enums.EncodingOption.NO_ENCODING})
    wrap["register_unwraps"] = client.get(client.register(again)).value == k
    out["wrap"] = wrap

    pub_uid, priv_uid = client.create_key_pair(enums.CryptographicAlgorithm.RSA, 2048,
                                               public_usage_mask=[M.VERIFY, M.ENCRYPT], private_usage_mask=[M.SIGN, M.DECRYPT])
    client.activate(pub_uid)
    client.activate(priv_uid)
    message = b"sign me, then verify me"
    pss = {"cryptographic_algorithm": enums.CryptographicAlgorithm.RSA, "padding_method": enums.PaddingMethod.PSS,
           "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
    signature = client.sign(message, uid=priv_uid, cryptographic_parameters=pss)
    public = serialization.load_der_public_key(client.get(pub_uid).value)
    try:
        public.verify(signature, message, asym_padding.PSS(asym_padding.MGF1(hashes.SHA256()), asym_padding.PSS.AUTO), hashes.SHA256())
        local = True
    except Exception:  # noqa: BLE001 - InvalidSignature
        local = False
    out["sign"] = {"bytes": len(signature), "local_verify": local,
                   "server_verify": client.signature_verify(message, signature, uid=pub_uid, cryptographic_parameters=pss).name,
                   "server_verify_other": client.signature_verify(b"another message", signature, uid=pub_uid, cryptographic_parameters=pss).name}
    oaep = {"cryptographic_algorithm": enums.CryptographicAlgorithm.RSA, "padding_method": enums.PaddingMethod.OAEP,
            "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
    ct = public.encrypt(b"a DEK of 32 bytes, wrapped by me", asym_padding.OAEP(asym_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    out["rsa_oaep_decrypt"] = client.decrypt(ct, uid=priv_uid, cryptographic_parameters=oaep) == b"a DEK of 32 bytes, wrapped by me"

    result = client.proxy.query(query_functions=[enums.QueryFunction.QUERY_OPERATIONS])
    out["query_operations"] = sorted(enum_name(o) for o in result.operations)
print(json.dumps(out))
