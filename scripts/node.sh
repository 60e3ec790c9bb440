#!/usr/bin/env bash
# Prints the directory to put first on PATH so that `node` is a supported Node (22.13+; the
# supported lines are 22 and 24), or nothing when the `node` already on PATH is one.
#
#   scripts/node.sh        the node on PATH if supported, otherwise Node $NODE_22 (for make)
#   scripts/node.sh 22|24  exactly Node $NODE_22 / $NODE_24 (for CI, which tests on both)
#
# A Node that is needed and missing is unpacked from npm's node-<os>-<arch> package (it ships
# the official binaries; npm is the one registry every machine here reaches) into .tools/,
# which is kept between runs and ignored by git. Nothing else is downloaded from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_22=22.23.3
NODE_24=24.21.0
MINIMUM=22.13.0

supported() { # version
  [ "$(printf '%s\n%s\n' "$MINIMUM" "$1" | sort -V | head -n 1)" = "$MINIMUM" ]
}

unpack() { # version; prints its bin directory
  local version=$1 os arch dir work
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "scripts/node.sh: no Node package for $(uname -m)" >&2 && return 1 ;;
  esac
  dir=$PWD/.tools/node-$version
  if [ ! -x "$dir/bin/node" ]; then
    mkdir -p .tools
    work=$(mktemp -d "$PWD/.tools/unpack.XXXXXX")
    # shellcheck disable=SC2064 # expand now: work is local
    trap "rm -rf '$work'" EXIT
    if ! (cd "$work" && npm pack --silent "node-$os-$arch@$version" >pack.log 2>&1); then
      echo "scripts/node.sh: npm pack node-$os-$arch@$version failed:" >&2
      cat "$work/pack.log" >&2
      return 1
    fi
    mkdir "$work/node"
    tar -xzf "$work"/node-*.tgz -C "$work/node" --strip-components=1
    # Renamed into place only once complete, so an interrupted run never leaves a broken Node.
    mv -T "$work/node" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ]
  fi
  [ "$("$dir/bin/node" --version)" = "v$version" ] || {
    echo "scripts/node.sh: $dir/bin/node is not Node $version" >&2
    return 1
  }
  echo "$dir/bin"
}

case "${1:-}" in
  '')
    current=$(node -p process.versions.node 2>/dev/null || true)
    if [ -n "$current" ] && supported "$current"; then exit 0; fi
    bin=$(unpack "$NODE_22")
    echo "Node ${current:-(none)} on PATH is older than $MINIMUM: using Node $NODE_22 from npm (${bin#"$PWD"/})" >&2
    echo "$bin"
    ;;
  22) unpack "$NODE_22" ;;
  24) unpack "$NODE_24" ;;
  *)
    echo "usage: scripts/node.sh [22|24]" >&2
    exit 2
    ;;
esac
