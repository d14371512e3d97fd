#!/usr/bin/env bash
# Builds the Pulumi CLI at the version tools/pulumi/go.mod pins, stamped with that version, into the path given
# (default .cache/bin/pulumi), unless a CLI of that version is already there. The Go build cache makes a rebuild
# after `make clean` quick; a cold build takes a few minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../.cache/bin/pulumi}"
version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2 }' "$here/go.mod")
if [ -z "$version" ]; then
  echo "tools/pulumi/go.mod pins no github.com/pulumi/pulumi/pkg/v3" >&2
  exit 1
fi
if [ -x "$out" ] && [ "$("$out" version 2>/dev/null)" = "$version" ]; then
  exit 0
fi
mkdir -p "$(dirname "$out")"
echo "building the Pulumi CLI $version into $out (a few minutes when the Go build cache is cold)" >&2
cd "$here"
go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
  -o "$out.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
got=$("$out.tmp" version)
if [ "$got" != "$version" ]; then
  echo "the built CLI says it is $got, not $version" >&2
  exit 1
fi
mv "$out.tmp" "$out"
