"""Drives Debian's PyKMIP client (kmip.pie.client.ProxyKmipClient) with secret data and opaque objects.

usage: pykmip_objects.py HOST PORT CERT KEY CA VERSION(1.1|1.2)
Registers a password, a seed and an opaque object, gets each back, locates them by object type,
destroys them and checks Get then fails; asks Query for operations and objects.
Prints one JSON object (no secret bytes, only lengths and equality); exits non-zero on failure.
"""
import enum
import json
import sys
import tempfile

from kmip import enums
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version = sys.argv[1:7]
kmip_version = {"1.1": enums.KMIPVersion.KMIP_1_1, "1.2": enums.KMIPVersion.KMIP_1_2}[version]

conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("[client]\n")
conf.close()


def enum_name(o):
    """Query answers hold enum members (or, in some PyKMIP versions, primitives wrapping them)."""
    return o.name if isinstance(o, enum.Enum) else o.value.name


factory = attribute_factories.AttributeFactory()
out = {}
client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                         config_file=conf.name, kmip_version=kmip_version)
with client:
    password = b"correct horse battery staple"
    seed = bytes(range(48))
    blob = b"\x00opaque\xffbytes"
    sent = {
        "password": objects.SecretData(password, enums.SecretDataType.PASSWORD,
                                       masks=[enums.CryptographicUsageMask.DERIVE_KEY], name="pw-" + version),
        "seed": objects.SecretData(seed, enums.SecretDataType.SEED, name="seed-" + version),
        "opaque": objects.OpaqueObject(blob, enums.OpaqueDataType.NONE, name="blob-" + version),
    }
    values = {"password": password, "seed": seed, "opaque": blob}
    ids = {}
    for label, obj in sent.items():
        uid = client.register(obj)
        ids[label] = uid
        got = client.get(uid)
        entry = {"class": type(got).__name__, "same_value": got.value == values[label], "bytes": len(got.value)}
        if isinstance(got, objects.SecretData):
            entry["data_type"] = got.data_type.name
        else:
            entry["data_type"] = got.opaque_type.name
        out[label] = entry
    out["locate_secret"] = sorted(client.locate(attributes=[
        factory.create_attribute(enums.AttributeType.OBJECT_TYPE, enums.ObjectType.SECRET_DATA)]))
    out["locate_opaque"] = client.locate(attributes=[
        factory.create_attribute(enums.AttributeType.OBJECT_TYPE, enums.ObjectType.OPAQUE_DATA)])
    out["ids"] = ids
    destroyed = {}
    for label, uid in ids.items():
        client.destroy(uid)
        try:
            client.get(uid)
            destroyed[label] = "get accepted"
        except Exception as e:  # noqa: BLE001 - report what the server said
            destroyed[label] = str(e)
    out["get_after_destroy"] = destroyed
    result = client.proxy.query(query_functions=[enums.QueryFunction.QUERY_OPERATIONS,
                                                 enums.QueryFunction.QUERY_OBJECTS])
    out["query_operations"] = sorted(enum_name(o) for o in result.operations)
    out["query_objects"] = sorted(enum_name(o) for o in result.object_types)
print(json.dumps(out))
