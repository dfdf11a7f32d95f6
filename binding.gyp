{
  "targets": [
    {
      "target_name": "vmcrypt_xts",
      "sources": ["native/xts.c", "native/xts-aesni.c", "native/xts-vaes.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
