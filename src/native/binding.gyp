{
  "targets": [
    {
      "target_name": "exo_sentinel_native",
      "sources": ["src/addon.c", "src/common.c", "src/marshal.c", "src/pressure.c"],
      "defines": ["NAPI_VERSION=9"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-O2", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/linux.c"],
          "libraries": ["-lpthread"]
        }],
        ["OS=='mac'", {
          "sources": ["src/darwin.c"],
          "xcode_settings": {
            "MACOSX_DEPLOYMENT_TARGET": "13.0",
            "GCC_C_LANGUAGE_STANDARD": "c11",
            "OTHER_CFLAGS": ["-Wall", "-Wextra", "-O2"]
          },
          "link_settings": {
            "libraries": ["-framework CoreFoundation", "-framework IOKit", "-lobjc"]
          }
        }]
      ]
    }
  ]
}
