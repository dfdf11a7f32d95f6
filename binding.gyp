{
  "targets": [
    {
      "target_name": "vmcrypt_xts",
      "sources": ["native/xts.c", "native/xts-aesni.c", "native/xts-vaes.c", "native/xts-map.c", "native/xts-copy.c", "native/xts-af.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "vmcrypt_relay",
      "sources": ["native/relay.c", "native/relay-pump.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-pthread"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
