"""Prints PyKMIP's own TTLV encoding (hex) of the key objects of issue 16, one per line.

usage: pykmip_encode_key_objects.py CERT_HEX KEY_HEX SPLIT_HEX
Lines: X.509 Certificate; RSA-2048 Public Key (PKCS#1); EC-256 Private Key (PKCS#8); AES-128 Split
Key part 1 of 3 (threshold 2, XOR, Raw); a Template (AES, 256).
"""
import sys

from kmip.core import enums, utils
from kmip.core import secrets
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import factory, objects

cert_hex, key_hex, split_hex = sys.argv[1:4]
convert = factory.ObjectFactory().convert
attrs = attribute_factories.AttributeFactory()
items = [
    convert(objects.X509Certificate(bytes.fromhex(cert_hex))),
    convert(objects.PublicKey(enums.CryptographicAlgorithm.RSA, 2048, bytes.fromhex(key_hex), enums.KeyFormatType.PKCS_1)),
    convert(objects.PrivateKey(enums.CryptographicAlgorithm.EC, 256, bytes.fromhex(key_hex), enums.KeyFormatType.PKCS_8)),
    convert(objects.SplitKey(cryptographic_algorithm=enums.CryptographicAlgorithm.AES, cryptographic_length=128,
                             key_value=bytes.fromhex(split_hex), key_format_type=enums.KeyFormatType.RAW,
                             split_key_parts=3, key_part_identifier=1, split_key_threshold=2,
                             split_key_method=enums.SplitKeyMethod.XOR)),
    secrets.Template(attributes=[
        attrs.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES),
        attrs.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256)]),
]
for item in items:
    stream = utils.BytearrayStream()
    item.write(stream)
    print(stream.buffer.hex())
