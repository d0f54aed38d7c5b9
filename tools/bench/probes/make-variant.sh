#!/bin/bash
# Keeps this checkout's BUILT @es/core and @es/sql, and @es/cassandra when it is built (run
# `pnpm --filter @es/core build` and `pnpm --filter @es/sql build` first, and
# `pnpm --filter @es/cassandra build` for probes/cassandra-ab.ts) as variant NAME, for an A/B in one
# process or one session:
#
#   probes/make-variant.sh before; (change, build); probes/make-variant.sh after
#   npx tsx probes/ab-reads.ts before after                  # both builds in one process, interleaved
#   npx tsx --tsconfig probes/variants/tsconfig.before.json probes/sqlite.ts snap   # a probe on one build
#
# A variant is probes/variants/NAME/node_modules/@es/{core,sql[,cassandra]} (dist, package.json, and links to their
# dependencies) and probes/variants/tsconfig.NAME.json, which points the bench's imports of @es/core and
# @es/sql at it (tsx otherwise runs the packages' sources). Ignored by git.
set -euo pipefail
name=${1:?usage: make-variant.sh NAME}
probes=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$probes/../../.." && pwd)
es=$probes/variants/$name/node_modules/@es
rm -rf "$probes/variants/$name"
packages="core sql"
[ -d "$root/packages/cassandra/dist" ] && packages="$packages cassandra"
for package in $packages; do
  mkdir -p "$es/$package/node_modules"
  cp -r "$root/packages/$package/dist" "$root/packages/$package/package.json" "$es/$package/"
  for dependency in "$root/packages/$package/node_modules/"*; do
    # Not @es: the variant's sql must import the variant's core.
    [ "$(basename "$dependency")" = "@es" ] || ln -s "$(readlink -f "$dependency")" "$es/$package/node_modules/"
  done
done
cat > "$probes/variants/tsconfig.$name.json" <<JSON
{
  "extends": "../../tsconfig.json",
  "compilerOptions": {
    "paths": {
      "@es/core": ["./$name/node_modules/@es/core/dist/index.js"],
      "@es/core/backend": ["./$name/node_modules/@es/core/dist/backend.js"],
      "@es/sql": ["./$name/node_modules/@es/sql/dist/index.js"],
      "@es/servers": ["../../../servers/src/index.ts"]
    }
  }
}
JSON
