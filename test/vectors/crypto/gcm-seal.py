#!/usr/bin/env python3
"""Independent implementation of the gcm-seal box (docs/crypto.md), with pyca/cryptography, that
writes the known-answer vectors in gcm-seal.json. Run: python3 test/vectors/crypto/gcm-seal.py"""
import hashlib, hmac, json, os, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

def context(purpose, binding):
    out = bytes([len(purpose)]) + purpose.encode() + bytes([len(binding)])
    for kind, value in binding:
        if kind == "utf8": t, v = 1, value.encode("utf-8")
        elif kind == "hex": t, v = 2, bytes.fromhex(value)
        else: t, v = 3, struct.pack(">Q", value)
        out += bytes([t]) + struct.pack(">I", len(v)) + v
    return out

def seal(key, nonce, plaintext, purpose, binding, version=2, aad_v1=b""):
    label = b"vmcrypt-seal-kcv-v2" if version == 2 else b"vmcrypt-envelope-kcv-v1"
    kcv = hmac.new(key, label + nonce, hashlib.sha256).digest()[:16]
    header = b"VMCE" + bytes([version, 1, 0, 0]) + nonce + kcv
    aad = header + (context(purpose, binding) if version == 2 else aad_v1)
    return header + AESGCM(key).encrypt(nonce, plaintext, aad), aad

cases = [
    ("dek-wrap, key id", bytes(range(32)), bytes.fromhex("000102030405060708090a0b"), bytes([0xAA]) * 32, "dek-wrap", [("utf8", "kek-0001")]),
    ("vm-log-record, uuid + index", bytes([0x42]) * 32, bytes.fromhex("cafebabefacedbaddecaf888"), "2024-01-01T00:00:00.000Z powered on".encode(), "vm-log-record", [("utf8", "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"), ("uint", 7)]),
    ("sealed-stream-chunk, hash + index + final", bytes.fromhex("ff" * 32), bytes(12), b"", "sealed-stream-chunk", [("hex", hashlib.sha256(b"header").hexdigest()), ("uint", 0), ("uint", 1)]),
    ("kms-key-material, non-ASCII object id", bytes([7]) * 32, bytes([9]) * 12, bytes(range(64)), "kms-key-material", [("utf8", "obj-\u00e9\u00e8")]),
]
vectors = []
for name, key, nonce, pt, purpose, binding in cases:
    sealed, aad = seal(key, nonce, pt, purpose, binding)
    vectors.append({"name": name, "key": key.hex(), "nonce": nonce.hex(), "plaintext": pt.hex(), "purpose": purpose,
                    "binding": [{kind: value} for kind, value in binding], "context": context(purpose, binding).hex(), "sealed": sealed.hex()})
v1, _ = seal(bytes([0x22]) * 32, bytes([1]) * 12, b"legacy envelope", None, None, version=1, aad_v1=b"uuid:nvram")
out = {"source": "test/vectors/crypto/gcm-seal.py (pyca/cryptography AESGCM, independent of src/crypto)", "vectors": vectors,
       "v1": {"key": (bytes([0x22]) * 32).hex(), "aad": b"uuid:nvram".hex(), "plaintext": b"legacy envelope".hex(), "sealed": v1.hex()}}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gcm-seal.json"), "w") as f:
    json.dump(out, f, indent=2); f.write("\n")
