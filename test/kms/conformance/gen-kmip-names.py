"""Writes kmip-names.json: KMIP tag and enumeration names -> wire values, from PyKMIP's
kmip.core.enums (Apache-2.0; the values are those of the KMIP specification). Run with the
PyKMIP the interop tests use:  /usr/bin/python3 test/kms/conformance/gen-kmip-names.py"""
import enum, inspect, json, os
import kmip
import kmip.core.enums as e


def camel(name):
    return ''.join(p[:1].upper() + p[1:].lower() for p in name.split('_'))


tags = {camel(t.name): t.value for t in e.Tags}
enums = {}
for cls_name, cls in inspect.getmembers(e, inspect.isclass):
    if not issubclass(cls, enum.Enum) or cls_name in ('Tags', 'Types', 'OrderedEnum', 'KMIPVersion'):
        continue
    values = {}
    for m in cls:
        v = m.value[0] if isinstance(m.value, tuple) else m.value
        if isinstance(v, int):
            values[camel(m.name)] = v
    if values:
        enums[cls_name] = values
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'kmip-names.json')
with open(out, 'w') as f:
    json.dump({'source': 'PyKMIP %s kmip.core.enums' % kmip.__version__, 'tags': tags, 'enums': enums}, f, indent=0, sort_keys=True)
    f.write('\n')
