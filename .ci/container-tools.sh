#!/usr/bin/env bash
# The container engine for ContainerIT: installs podman, runc and debootstrap from Debian when missing, writes the
# containers.conf this machine needs and makes the test base image (Debian sid, minbase, with a JRE) from Debian's
# packages, since no image registry is reachable. Everything is cached under ~/.cache/pgshift, so a second run takes
# seconds. Idempotent; ContainerIT runs it itself, so `./mvnw verify` needs no manual step. Prints what to use:
#   CONTAINERS_CONF=<file>   (export it before calling podman by hand)
#   BASE_IMAGE=<image>       (the --build-arg BASE_IMAGE of src/main/docker/Dockerfile.jvm)
set -euo pipefail

cache="${PGSHIFT_CACHE:-$HOME/.cache/pgshift}"
suite=sid   # postgresql-client-18 (the newest major, as in the shipped image) is in Debian only from sid
# Bump the tag when the recipe below changes: the image and the rootfs tar are cached under it.
recipe=2
base_image=localhost/pgshift-test-base:${suite}-${recipe}
# Java 17, as in the shipped image (eclipse-temurin:17-jre), from Debian's packages.
base_packages=openjdk-17-jre-headless,ca-certificates
mirror=http://deb.debian.org/debian

need=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ContainerIT needs ${need[*]}: install them (Debian: apt-get install podman runc debootstrap) and run as root" >&2
    exit 1
  fi
  echo "installing ${need[*]} from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >&2
fi

mkdir -p "$cache"
# crun refuses this machine's cgroup layout; podman's default ulimits exceed the machine's hard limits.
conf="$cache/containers.conf"
cat > "$conf.part" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
mv "$conf.part" "$conf"
export CONTAINERS_CONF="$conf"

if ! podman image exists "$base_image"; then
  rootfs="$cache/base-${suite}-${recipe}-rootfs.tar"
  if [ ! -s "$rootfs" ]; then
    dir=$(mktemp -d "$cache/debootstrap.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    echo "debootstrap $suite (minbase + $base_packages) into $dir" >&2
    debootstrap --variant=minbase --include="$base_packages" "$suite" "$dir" "$mirror" >&2
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    # The mirror reachable here may serve a Release file older than its Valid-Until (so does this machine's own apt
    # configuration): without this, apt-get update in the image build refuses it.
    printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' > "$dir/etc/apt/apt.conf.d/99pgshift-test-mirror"
    tar -C "$dir" --numeric-owner -cf "$rootfs.part" .
    mv "$rootfs.part" "$rootfs"
    rm -rf "$dir"
    trap - EXIT
  fi
  echo "podman import $rootfs as $base_image" >&2
  podman import --change 'CMD ["/bin/bash"]' "$rootfs" "$base_image" >&2
fi
echo "CONTAINERS_CONF=$conf"
echo "BASE_IMAGE=$base_image"
