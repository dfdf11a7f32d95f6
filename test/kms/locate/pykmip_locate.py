"""Drives Debian's PyKMIP client (kmip.pie.client.ProxyKmipClient) through Locate and attributes.

usage: pykmip_locate.py HOST PORT CERT KEY CA VERSION(1.2|1.4) TAG
Creates four AES keys named TAG-0..3 (two 128-bit, two 256-bit), locates them by name, by
algorithm and length, by a custom attribute, with Maximum Items and (KMIP 1.4) Offset Items,
destroys one and locates it by State, reads attribute lists. Prints one JSON object.
"""
import json
import sys
import tempfile

from kmip import enums
from kmip.core.factories import attributes as attribute_factories
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version, tag = sys.argv[1:8]
kmip_version = {"1.2": enums.KMIPVersion.KMIP_1_2, "1.4": enums.KMIPVersion.KMIP_1_4}[version]
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("[client]\n")
conf.close()

f = attribute_factories.AttributeFactory()
A = enums.AttributeType
out = {}
client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                         config_file=conf.name, kmip_version=kmip_version)
with client:
    ids = []
    for i in range(4):
        ids.append(client.create(enums.CryptographicAlgorithm.AES, 128 if i < 2 else 256, name="%s-%d" % (tag, i)))
    out["ids"] = ids
    out["by_name"] = client.locate(attributes=[f.create_attribute(A.NAME, "%s-2" % tag)])
    aes256 = [f.create_attribute(A.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES),
              f.create_attribute(A.CRYPTOGRAPHIC_LENGTH, 256)]
    out["aes256"] = [u for u in client.locate(attributes=aes256) if u in ids]
    out["max1"] = client.locate(maximum_items=1, attributes=[f.create_attribute(A.OBJECT_TYPE, enums.ObjectType.SYMMETRIC_KEY)])
    if version == "1.4":
        out["offset1"] = client.locate(maximum_items=1, offset_items=1,
                                       attributes=[f.create_attribute(A.OBJECT_TYPE, enums.ObjectType.SYMMETRIC_KEY)])
    client.revoke(enums.RevocationReasonCode.KEY_COMPROMISE, ids[0])
    client.destroy(ids[0])
    out["destroyed_plain"] = client.locate(attributes=[f.create_attribute(A.NAME, "%s-0" % tag)])
    out["destroyed_by_state"] = client.locate(attributes=[f.create_attribute(A.NAME, "%s-0" % tag),
                                                          f.create_attribute(A.STATE, enums.State.DESTROYED_COMPROMISED)])
    names = client.get_attribute_list(ids[0])
    out["destroyed_attribute_names"] = sorted(names)
print(json.dumps(out))
