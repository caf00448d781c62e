{
  # node-gyp build (the default route, run by `npm install` when no prebuilt binary fits).
  # LibTorch's paths come from scripts/libtorch.js, the same discovery the runtime loader uses.
  "variables": {
    "libtorch_libdir": "<!(node scripts/libtorch.js libdir)",
    "libtorch_abi": "<!(node scripts/libtorch.js abi)"
  },
  "targets": [
    {
      # Preloads LibTorch's libraries from wherever they are; depends on nothing but libc.
      "target_name": "ulmfit_loader",
      "sources": ["native/loader.cc"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20"]
    },
    {
      "target_name": "ulmfit",
      # One list for both builds: native/sources.txt (CMakeLists.txt reads it too).
      "sources": ["<!@(node scripts/native-sources.js)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch.js include)",
        "<!@(node scripts/gloo.js include)",
        "<!@(node scripts/nccl.js include)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "_GLIBCXX_USE_CXX11_ABI=<(libtorch_abi)",
        "<!@(node scripts/gloo.js defines)",
        "<!@(node scripts/nccl.js defines)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      # No rpath: the loader addon has already loaded LibTorch by the time this one is opened, and
      # --as-needed keeps only the libraries whose symbols are used.
      "ldflags": ["-Wl,--as-needed", "-L<(libtorch_libdir)"],
      "libraries": ["-lc10", "-ltorch_cpu", "-ltorch", "<!@(node scripts/nccl.js libraries)"]
    }
  ]
}
