# node-gyp build of the same sources as CMakeLists.txt (cmake-js is the primary
# build). Both read native/isa-flags.json, so per-ISA flags live in one place.
# gyp has no per-file flags, hence one static library per kernel ISA.
{
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "<!@(node -p \"require('./native/isa-flags.json').common.flags.join(' ')\")"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
  },
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "dso_isa_serial", "type": "static_library",
          "sources": ["<!(node -p \"require('./native/isa-flags.json').x64.serial.source\")"],
        },
        {
          "target_name": "dso_isa_avx2", "type": "static_library",
          "sources": ["<!(node -p \"require('./native/isa-flags.json').x64.avx2.source\")"],
          "cflags_cc": ["<!@(node -p \"require('./native/isa-flags.json').x64.avx2.flags.join(' ')\")"],
        },
        {
          "target_name": "dso_isa_avx512", "type": "static_library",
          "sources": ["<!(node -p \"require('./native/isa-flags.json').x64.avx512.source\")"],
          "cflags_cc": ["<!@(node -p \"require('./native/isa-flags.json').x64.avx512.flags.join(' ')\")"],
        },
        {
          "target_name": "dso_isa_avx512_vpopcntdq", "type": "static_library",
          "sources": ["<!(node -p \"require('./native/isa-flags.json').x64.avx512_vpopcntdq.source\")"],
          "cflags_cc": ["<!@(node -p \"require('./native/isa-flags.json').x64.avx512_vpopcntdq.flags.join(' ')\")"],
        },
        {
          "target_name": "dso_isa_avx512_stream", "type": "static_library",
          "sources": ["<!(node -p \"require('./native/isa-flags.json').x64.avx512_stream.source\")"],
          "cflags_cc": ["<!@(node -p \"require('./native/isa-flags.json').x64.avx512_stream.flags.join(' ')\")"],
        },
        {
          "target_name": "dso_native",
          "sources": ["<!@(node -p \"require('./native/isa-flags.json').common.sources.join(' ')\")"],
          "dependencies": ["dso_isa_serial", "dso_isa_avx2", "dso_isa_avx512", "dso_isa_avx512_vpopcntdq", "dso_isa_avx512_stream"],
        },
      ],
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "dso_isa_serial", "type": "static_library",
          "sources": ["<!(node -p \"require('./native/isa-flags.json').arm64.serial.source\")"],
        },
        {
          "target_name": "dso_isa_neon", "type": "static_library",
          "sources": ["<!(node -p \"require('./native/isa-flags.json').arm64.neon.source\")"],
          "cflags_cc": ["<!@(node -p \"require('./native/isa-flags.json').arm64.neon.flags.join(' ')\")"],
        },
        {
          "target_name": "dso_native",
          "sources": ["<!@(node -p \"require('./native/isa-flags.json').common.sources.join(' ')\")"],
          "dependencies": ["dso_isa_serial", "dso_isa_neon"],
        },
      ],
    }],
  ],
}
