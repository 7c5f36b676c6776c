#!/usr/bin/env bash
# Builds a local Debian base image with a headless JRE 17, for machines that have a Docker engine
# but no image registry: debootstrap a minimal bookworm, add the JRE, `docker import` it.
# Usage: docker/build-base-image.sh [TAG]   (default cleave/jre-base:17; a no-op if the tag exists)
# Where a registry is reachable, skip this and pass --build-arg BASE_IMAGE=eclipse-temurin:17-jre.
set -euo pipefail
tag="${1:-cleave/jre-base:17}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
root="$(mktemp -d /tmp/cleave-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm into $root (mirror $mirror)"
debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates bookworm "$root" "$mirror" >/tmp/cleave-debootstrap.log 2>&1 \
  || { tail -20 /tmp/cleave-debootstrap.log >&2; exit 1; }
# keep the image small: no apt lists, docs or caches
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import \
  --change 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' - "$tag"
echo "built $tag"
