"""Drives Debian's PyKMIP client against vmcrypt with the object types of issue 16 beyond secrets.

usage: pykmip_key_pair_objects.py HOST PORT CERT KEY CA VERSION(1.1|1.2)
Create Key Pair (RSA-2048) and a signature made with the private key checked with the public key;
Register/Get of an X.509 certificate, of RSA and EC private and public keys (and a private key
asked for in PKCS#1); Create and Register/Get of 3DES keys; Register/Get of a split key; Register
of a Template and a Create that names it (PyKMIP's lower-level KMIPProxy: the pie client has no
templates). Prints one JSON object (no key bytes, only facts); exits non-zero on failure.
"""
import datetime
import json
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from kmip import enums
from kmip.core import attributes as core_attributes
from kmip.core import objects as cobjects
from kmip.core import secrets
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version = sys.argv[1:7]
kmip_version = {"1.1": enums.KMIPVersion.KMIP_1_1, "1.2": enums.KMIPVersion.KMIP_1_2}[version]
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("[client]\n")
conf.close()
backend = default_backend()
factory = attribute_factories.AttributeFactory()
Usage = enums.CryptographicUsageMask
DER = serialization.Encoding.DER


def self_signed(private_key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"pykmip-" + version)])
    now = datetime.datetime.utcnow()
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    return builder.sign(private_key, hashes.SHA256(), backend).public_bytes(DER)


out = {}
client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                         config_file=conf.name, kmip_version=kmip_version)
with client:
    # Create Key Pair: RSA-2048, named, with usage masks; sign with one, verify with the other.
    pub_id, priv_id = client.create_key_pair(
        enums.CryptographicAlgorithm.RSA, 2048, public_name="pub-" + version, public_usage_mask=[Usage.VERIFY],
        private_name="priv-" + version, private_usage_mask=[Usage.SIGN])
    pub, priv = client.get(pub_id), client.get(priv_id)
    private_key = serialization.load_der_private_key(priv.value, None, backend)
    public_key = serialization.load_der_public_key(pub.value, backend)
    signature = private_key.sign(b"vmcrypt", padding.PKCS1v15(), hashes.SHA256())
    public_key.verify(signature, b"vmcrypt", padding.PKCS1v15(), hashes.SHA256())  # raises if it does not verify
    mask = client.get_attributes(priv_id, ["Cryptographic Usage Mask"])[1][0].attribute_value.value
    out["key_pair"] = {
        "distinct_ids": pub_id != priv_id,
        "public": [type(pub).__name__, pub.cryptographic_algorithm.name, pub.cryptographic_length, pub.key_format_type.name],
        "private": [type(priv).__name__, priv.cryptographic_algorithm.name, priv.cryptographic_length, priv.key_format_type.name],
        "public_matches_private": pub.value == private_key.public_key().public_bytes(DER, serialization.PublicFormat.PKCS1),
        "signature_verified": True,
        "private_mask": mask,
    }

    # Create Key Pair: EC P-256 (ECDSA across the pair; the public key comes as X.509).
    ec_pub_id, ec_priv_id = client.create_key_pair(enums.CryptographicAlgorithm.EC, 256)
    ec_pub, ec_priv = client.get(ec_pub_id), client.get(ec_priv_id)
    ec_signature = serialization.load_der_private_key(ec_priv.value, None, backend).sign(b"vmcrypt", ec.ECDSA(hashes.SHA256()))
    serialization.load_der_public_key(ec_pub.value, backend).verify(ec_signature, b"vmcrypt", ec.ECDSA(hashes.SHA256()))
    out["ec_key_pair"] = [ec_pub.key_format_type.name, ec_priv.key_format_type.name, ec_pub.cryptographic_length, "verified"]

    # Register/Get: certificate, RSA and EC private and public keys.
    rsa_key = rsa.generate_private_key(65537, 2048, backend)
    ec_key = ec.generate_private_key(ec.SECP384R1(), backend)
    cert_der = self_signed(ec_key)
    sent = {
        "certificate": (objects.X509Certificate(cert_der, name="cert-" + version), cert_der),
        "rsa_private_pkcs8": (objects.PrivateKey(enums.CryptographicAlgorithm.RSA, 2048, rsa_key.private_bytes(
            DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), enums.KeyFormatType.PKCS_8), None),
        "rsa_public_pkcs1": (objects.PublicKey(enums.CryptographicAlgorithm.RSA, 2048, rsa_key.public_key().public_bytes(
            DER, serialization.PublicFormat.PKCS1), enums.KeyFormatType.PKCS_1), None),
        "ec_private_pkcs8": (objects.PrivateKey(enums.CryptographicAlgorithm.EC, 384, ec_key.private_bytes(
            DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), enums.KeyFormatType.PKCS_8), None),
        "ec_public_x509": (objects.PublicKey(enums.CryptographicAlgorithm.EC, 384, ec_key.public_key().public_bytes(
            DER, serialization.PublicFormat.SubjectPublicKeyInfo), enums.KeyFormatType.X_509), None),
    }
    ids = {}
    for label, (obj, _) in sent.items():
        value = obj.value
        ids[label] = client.register(obj)
        got = client.get(ids[label])
        entry = {"class": type(got).__name__, "same_value": got.value == value}
        if hasattr(got, "key_format_type"):
            entry["format"] = got.key_format_type.name
            entry["algorithm"] = got.cryptographic_algorithm.name
            entry["length"] = got.cryptographic_length
        out[label] = entry
    # A private key asked for in another format (PKCS#1) through the lower-level client.
    r = client.proxy.get(ids["rsa_private_pkcs8"], key_format_type=cobjects.KeyFormatType(enums.KeyFormatType.PKCS_1))
    out["rsa_private_as_pkcs1"] = r.secret.key_block.key_value.key_material.value == rsa_key.private_bytes(
        DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())

    # 3DES: created by the server and registered. PyKMIP's pie objects insist on Cryptographic
    # Length = 8 x key bytes, so they name the 168-bit key by its 192-bit encoding.
    des_id = client.create(enums.CryptographicAlgorithm.TRIPLE_DES, 192, name="3des-" + version)
    des = client.get(des_id)
    out["3des_created"] = [des.cryptographic_algorithm.name, des.cryptographic_length, len(des.value)]
    des_bytes = bytes.fromhex("0123456789abcdeffedcba987654321089abcdef01234567")
    des_reg = client.get(client.register(objects.SymmetricKey(enums.CryptographicAlgorithm.TRIPLE_DES, 192, des_bytes)))
    out["3des_registered"] = [des_reg.cryptographic_algorithm.name, des_reg.cryptographic_length, des_reg.value == des_bytes]

    # Split key.
    part = bytes(range(32))
    split = objects.SplitKey(cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=256,
                             key_value=part, key_format_type=enums.KeyFormatType.RAW, split_key_parts=3,
                             key_part_identifier=2, split_key_threshold=2, split_key_method=enums.SplitKeyMethod.XOR)
    got = client.get(client.register(split))
    out["split_key"] = {"class": type(got).__name__, "same_value": got.value == part, "parts": got.split_key_parts,
                        "id": got.key_part_identifier, "threshold": got.split_key_threshold, "method": got.split_key_method.name}

    # Template (KMIP 1.x): registered, then named by a Create.
    template = secrets.Template(attributes=[
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES),
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 192),
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK, [Usage.ENCRYPT, Usage.DECRYPT]),
    ])
    tname = "aes-192-template-" + version
    reg = client.proxy.register(enums.ObjectType.TEMPLATE, cobjects.TemplateAttribute(attributes=[
        factory.create_attribute(enums.AttributeType.NAME, tname)]), template)
    named = cobjects.TemplateAttribute(names=[core_attributes.Name.create(tname, enums.NameType.UNINTERPRETED_TEXT_STRING)])
    created = client.proxy.create(enums.ObjectType.SYMMETRIC_KEY, named)
    key_from_template = client.get(created.uuid)
    out["template"] = {"registered": reg.result_status.value.name, "created": created.result_status.value.name,
                       "key": [key_from_template.cryptographic_algorithm.name, key_from_template.cryptographic_length]}
print(json.dumps(out))
