"""Sends hand-written KMIP bytes over mutual TLS and parses the reply with struct (no PyKMIP codec).

usage: raw_exchange.py HOST PORT CERT KEY CA
The request is a KMIP 1.1 Create of an AES-128 key (the layout of KMIP test case 3.1.1), then a
Get of the returned id in the same connection. Prints JSON with the result status and key size.
"""
import json
import socket
import ssl
import struct
import sys

host, port, cert, key, ca = sys.argv[1:6]


def item(tag, typ, value):
    """One TTLV item: 3-byte tag, type, 4-byte length, value padded to 8."""
    pad = (8 - len(value) % 8) % 8
    return struct.pack(">I", tag)[1:] + bytes([typ]) + struct.pack(">I", len(value)) + value + b"\0" * pad


def struct_(tag, *children):
    return item(tag, 0x01, b"".join(children))


def integer(tag, v):
    return item(tag, 0x02, struct.pack(">i", v))


def enum(tag, v):
    return item(tag, 0x05, struct.pack(">I", v))


def text(tag, s):
    return item(tag, 0x07, s.encode())


def attribute(name, value):
    return struct_(0x420008, text(0x42000A, name), value)


def request(op, payload):
    header = struct_(0x420077, struct_(0x420069, integer(0x42006A, 1), integer(0x42006B, 1)), integer(0x42000D, 1))
    return struct_(0x420078, header, struct_(0x42000F, enum(0x42005C, op), struct_(0x420079, *payload)))


def parse(buf, pos=0, end=None):
    """Decodes TTLV into (tag, type, value) tuples; structures recurse."""
    end = len(buf) if end is None else end
    out = []
    while pos < end:
        tag = int.from_bytes(buf[pos:pos + 3], "big")
        typ = buf[pos + 3]
        length = struct.unpack(">I", buf[pos + 4:pos + 8])[0]
        val = buf[pos + 8:pos + 8 + length]
        if typ == 0x01:
            val = parse(buf, pos + 8, pos + 8 + length)
        elif typ in (0x02, 0x05):
            val = struct.unpack(">I", val)[0]
        elif typ == 0x07:
            val = val.decode()
        out.append((tag, typ, val))
        pos += 8 + length + (8 - length % 8) % 8
    return out


def find(items, tag):
    for t, _, v in items:
        if t == tag:
            return v
    return None


def exchange(sock, msg):
    sock.sendall(msg)
    head = b""
    while len(head) < 8:
        head += sock.recv(8 - len(head))
    length = struct.unpack(">I", head[4:8])[0]
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    top = parse(head + body)
    assert top[0][0] == 0x42007B, "not a Response Message"
    batch = find(top[0][2], 0x42000F)
    return batch


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.check_hostname = False
with socket.create_connection((host, int(port))) as raw, ctx.wrap_socket(raw) as s:
    create = request(0x01, [
        enum(0x420057, 2),
        struct_(0x420091,
                attribute("Cryptographic Algorithm", enum(0x42000B, 3)),
                attribute("Cryptographic Length", integer(0x42000B, 128)),
                attribute("Cryptographic Usage Mask", integer(0x42000B, 12))),
    ])
    b1 = exchange(s, create)
    uid = find(find(b1, 0x42007C), 0x420094)
    b2 = exchange(s, request(0x0A, [text(0x420094, uid)]))
    block = find(find(find(b2, 0x42007C), 0x42008F), 0x420040)
    material = find(find(block, 0x420045), 0x420043)
    print(json.dumps({
        "create_status": find(b1, 0x42007F),
        "uid": uid,
        "get_status": find(b2, 0x42007F),
        "key_format": find(block, 0x420042),
        "key_bytes": len(material),
    }))
