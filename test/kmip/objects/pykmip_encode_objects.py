"""Prints PyKMIP's own TTLV encoding (hex) of a Secret Data and an Opaque Object, one per line.

usage: pykmip_encode_objects.py SECRET_HEX OPAQUE_HEX
Secret Data: type Password; Opaque Object: Opaque Data Type NONE (0x80000000).
"""
import sys

from kmip.core import enums, utils
from kmip.pie import factory, objects

secret_hex, opaque_hex = sys.argv[1:3]
convert = factory.ObjectFactory().convert
for obj in (objects.SecretData(bytes.fromhex(secret_hex), enums.SecretDataType.PASSWORD),
            objects.OpaqueObject(bytes.fromhex(opaque_hex), enums.OpaqueDataType.NONE)):
    stream = utils.BytearrayStream()
    convert(obj).write(stream)
    print(stream.buffer.hex())
