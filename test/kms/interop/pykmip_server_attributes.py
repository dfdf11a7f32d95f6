"""Drives Debian's PyKMIP client (kmip.pie.client.ProxyKmipClient) against the server-kept attributes.

usage: pykmip_server_attributes.py HOST PORT CERT KEY CA VERSION(1.2|1.4)
Creates an AES key, reads all its attributes (the error, if PyKMIP cannot decode one) and its list, reads Fresh and Lease Time,
Gets the key, reads Fresh again, creates a key pair and lists both keys' attributes.
Prints one JSON object.
"""
import json
import sys
import tempfile

from kmip import enums
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version = sys.argv[1:7]
kmip_version = {"1.2": enums.KMIPVersion.KMIP_1_2, "1.4": enums.KMIPVersion.KMIP_1_4}[version]
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write("[client]\n")
conf.close()


def values(attrs):
    out = {}
    for a in attrs:
        v = a.attribute_value
        out[a.attribute_name.value] = v.value if hasattr(v, "value") and isinstance(v.value, (bool, int, str)) else None
    return out


out = {}
client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                         config_file=conf.name, kmip_version=kmip_version)
with client:
    uid = client.create(enums.CryptographicAlgorithm.AES, 256)
    try:
        out["all_names"] = sorted(values(client.get_attributes(uid)[1]).keys())
    except Exception as e:  # PyKMIP 0.10 cannot decode the KMIP 1.3/1.4 attributes it lacks
        out["all_error"] = str(e)
    out["list"] = sorted(client.get_attribute_list(uid))
    out["before"] = values(client.get_attributes(uid, ["Fresh", "Lease Time", "Sensitive"])[1])
    out["key_len"] = len(client.get(uid).value)
    out["after"] = values(client.get_attributes(uid, ["Fresh"])[1])
    pub, priv = client.create_key_pair(enums.CryptographicAlgorithm.RSA, 2048)
    out["pair_names"] = [sorted(client.get_attribute_list(u)) for u in (pub, priv)]
    out["pub_der_len"] = len(client.get(pub).value)
print(json.dumps(out))
