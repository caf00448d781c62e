#!/usr/bin/env bash
# Packs what bench/gpu.sh needs on a GPU machine that has no package registry, into one archive to take
# along: the npm packages it runs (the runtime dependencies, node-gyp and cmake-js, vitest), the compiled
# TypeScript (dist/), the demo's corpora (their text files only) and the few Node headers a Node-API build
# reads (such machines may have a Node binary without its headers). Run it after `npm install` here:
#
#   bash bench/gpu-pack.sh [ARCHIVE]        # default .device/gpu-pack.tar.xz
#
# There: tar xJf ARCHIVE && export npm_config_nodedir=$PWD/node-headers && bash bench/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
archive=${1:-.device/gpu-pack.tar.xz}
mkdir -p "$(dirname "$archive")"
npm run build:ts > /dev/null

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Every package reachable from the runtime dependencies and the tools gpu.sh runs.
node -e '
  const fs = require("fs"), path = require("path");
  const seen = new Set();
  const visit = (name) => {
    const file = path.join("node_modules", name, "package.json");
    if (seen.has(name) || !fs.existsSync(file)) return;
    seen.add(name);
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep);
  };
  const root = JSON.parse(fs.readFileSync("package.json", "utf8"));
  for (const name of [...Object.keys(root.dependencies), "vitest", "cmake-js", "node-api-headers"]) visit(name);
  fs.writeFileSync(process.argv[1], [...seen].map((n) => "node_modules/" + n).join("\n") + "\n");
' "$stage/packages.txt"

# The demo corpora: package.json (how they are found) and the text files the demo reads.
corpora=()
for pkg in datasets-sotu datasets-spam-assassin; do
  dir=node_modules/@stdlib/$pkg
  corpora+=("$dir/package.json")
  while IFS= read -r f; do corpora+=("$f"); done < <(find "$dir/data" -name '*.txt' | sort)
done
printf '%s\n' "${corpora[@]}" > "$stage/corpora.txt"

# Node-API headers and node-gyp's common.gypi, as a --nodedir.
headers=$(node -p 'require("path").resolve(process.execPath, "../../include/node")')
mkdir -p "$stage/node-headers/include/node"
for f in common.gypi config.gypi node_api.h node_api_types.h js_native_api.h js_native_api_types.h node_version.h; do
  cp "$headers/$f" "$stage/node-headers/include/node/"
done

tar cf - -T "$stage/packages.txt" -T "$stage/corpora.txt" dist -C "$stage" node-headers | xz -T0 -6 > "$archive"
echo "gpu-pack: $(wc -l < "$stage/packages.txt") packages, ${#corpora[@]} corpus files, dist/, Node headers: $archive ($(du -h "$archive" | cut -f1))"
