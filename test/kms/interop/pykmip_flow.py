"""Drives Debian's PyKMIP client (kmip.pie.client.ProxyKmipClient) against a KMIP server.

usage: pykmip_flow.py HOST PORT CERT KEY CA VERSION(1.1|1.2) NAME
Prints one JSON object with what each step returned; exits non-zero on the first failure.
"""
import json
import sys
import tempfile

from kmip import enums
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version, name = sys.argv[1:8]
kmip_version = {"1.1": enums.KMIPVersion.KMIP_1_1, "1.2": enums.KMIPVersion.KMIP_1_2}[version]

# An empty config file so no /etc/pykmip/pykmip.conf on the machine changes the run.
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("[client]\n")
conf.close()

out = {}
client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                         config_file=conf.name, kmip_version=kmip_version)
with client:
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name=name,
                        cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT,
                                                  enums.CryptographicUsageMask.DECRYPT])
    out["create"] = uid
    key_obj = client.get(uid)
    out["get"] = {"algorithm": key_obj.cryptographic_algorithm.name,
                  "length": key_obj.cryptographic_length,
                  "bytes": len(key_obj.value)}
    got_uid, attrs = client.get_attributes(uid, ["State", "Cryptographic Algorithm", "Cryptographic Length", "Name"])
    out["get_attributes"] = {"uid": got_uid, "names": sorted(a.attribute_name.value for a in attrs)}
    state = [a for a in attrs if a.attribute_name.value == "State"][0].attribute_value.value
    out["state_before"] = state.name
    client.activate(uid)
    _, attrs = client.get_attributes(uid, ["State"])
    out["state_active"] = attrs[0].attribute_value.value.name
    out["locate"] = client.locate(attributes=[
        client.attribute_factory.create_attribute(enums.AttributeType.NAME, name)])
    out["locate_max1"] = client.locate(maximum_items=1)
    client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid, "retired by test")
    _, attrs = client.get_attributes(uid, ["State"])
    out["state_revoked"] = attrs[0].attribute_value.value.name
    client.destroy(uid)
    _, attrs = client.get_attributes(uid, ["State"])
    out["state_destroyed"] = attrs[0].attribute_value.value.name
    # A second key: Destroy while Active must be refused by the server.
    uid2 = client.create(enums.CryptographicAlgorithm.AES, 128)
    client.activate(uid2)
    try:
        client.destroy(uid2)
        out["destroy_active"] = "accepted"
    except Exception as e:  # noqa: BLE001 - report what the server said
        out["destroy_active"] = str(e)
print(json.dumps(out))
