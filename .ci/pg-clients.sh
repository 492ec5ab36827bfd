#!/usr/bin/env bash
# pg_dump, pg_restore and pg_basebackup of the PostgreSQL majors the tests need, cached so that later runs start in seconds.
#
#   .ci/pg-clients.sh MAJOR...               make sure clients MAJOR... are in the cache; print MAJOR=DIR for each
#   .ci/pg-clients.sh --server VERSION FILE  make sure of the clients the tests need against a server VERSION (a zonky
#                                            version such as 17.6.0, or a major) and write them to FILE (properties)
#
# pg_dump must not be older than the server it dumps (pgshift refuses one that is, exit 4). Debian 12 has pg_dump 15
# (package postgresql-client-15, installed with apt-get if missing), which backs up servers 14 and 15. Newer majors come
# from newer Debian suites through debootstrap: 17 from trixie (also for a server 16: Debian has no client 16 any more),
# 18 from sid. Their programs need a newer glibc than Debian 12's, so the wrappers in DIR run them through the loader of
# their own root file system. The cache is ${PGSHIFT_PG_CLIENTS:-~/.cache/pgshift/pg-clients}/<major>/: bin/pg_dump and
# bin/pg_restore (pgshift takes pg_restore from beside pg_dump), bin/pg_basebackup (RestorePointIT's base backups) and, for debootstrapped majors, root/. Needs root (apt-get,
# debootstrap) only the first time.
set -euo pipefail

cache="${PGSHIFT_PG_CLIENTS:-$HOME/.cache/pgshift/pg-clients}"
mirror="${PGSHIFT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

die() {
  echo "pg-clients: $*" >&2
  exit 1
}

# The client major that backs up a server of major $1, and the newest real client older than that server (empty when
# there is none here: the tests then fake one that reports an older --version).
client_for() {
  case "$1" in
    14 | 15) echo 15 ;;
    16 | 17) echo 17 ;;
    18) echo 18 ;;
    *) die "no pg_dump source known for a PostgreSQL $1 server (supported: 14 to 18)" ;;
  esac
}
older_than() {
  case "$1" in
    16 | 17) echo 15 ;;
    18) echo 17 ;;
    *) echo "" ;;
  esac
}

apt_install() {
  [ "$(id -u)" = 0 ] || die "installing $* needs root: run as root, or install it yourself (apt-get install $*)"
  echo "pg-clients: apt-get install $*" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; } ||
    die "apt-get install $* failed; install it yourself, or run the suite with -Dtest.backup=never (no backup tests)"
}

# Checks that DIR/bin/pg_dump, pg_restore and pg_basebackup run and are of major $2.
check() {
  local dir=$1 major=$2 tool out
  for tool in pg_dump pg_restore pg_basebackup; do
    out=$("$dir/bin/$tool" --version 2>&1) || die "$dir/bin/$tool --version failed: $out (delete $dir to fetch it again)"
    [[ "$out" =~ \(PostgreSQL\)\ $major\. ]] || die "$dir/bin/$tool is not of major $major: $out (delete $dir to fetch it again)"
  done
}

# Debian 12's own client (the host's package).
host_client() {
  local major=$1 dir="$cache/$1" bin="/usr/lib/postgresql/$1/bin"
  [ -x "$bin/pg_dump" ] || apt_install "postgresql-client-$major"
  [ -x "$bin/pg_dump" ] || die "postgresql-client-$major installed no $bin/pg_dump"
  mkdir -p "$dir/bin"
  ln -sfn "$bin/pg_dump" "$dir/bin/pg_dump"
  ln -sfn "$bin/pg_restore" "$dir/bin/pg_restore"
  ln -sfn "$bin/pg_basebackup" "$dir/bin/pg_basebackup"
}

# A client from another Debian suite: a minimal root file system with postgresql-client-<major>, and wrappers that run
# its programs through that tree's loader and libraries.
debootstrap_client() {
  local major=$1 suite=$2 dir="$cache/$1" tmp tool
  command -v debootstrap >/dev/null || apt_install debootstrap
  [ "$(id -u)" = 0 ] || die "debootstrap needs root: run as root to fetch pg_dump $major"
  tmp=$(mktemp -d "$cache/.$major.XXXXXX")
  chmod 755 "$tmp"
  echo "pg-clients: debootstrap --variant=minbase --include=postgresql-client-$major $suite (about a minute, once)" >&2
  if ! debootstrap --variant=minbase --include="postgresql-client-$major" "$suite" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
    tail -5 "$tmp/debootstrap.log" >&2
    die "debootstrap of postgresql-client-$major from $suite ($mirror) failed; full log in $tmp/debootstrap.log. pg_dump $major is" \
      "needed for the backup tests against a PostgreSQL $major server (or run them with -Dtest.backup=never and without BackupIT)"
  fi
  rm -rf "$tmp/root/var/cache/apt/archives"/*.deb "$tmp/debootstrap.log"
  mkdir -p "$tmp/bin"
  for tool in pg_dump pg_restore pg_basebackup; do
    cat >"$tmp/bin/$tool" <<EOF
#!/bin/sh
# $tool $major from Debian $suite (written by .ci/pg-clients.sh): it needs a newer glibc than the host's, so it runs
# through the loader and libraries of its own root file system.
root="$dir/root"
exec "\$root/lib64/ld-linux-x86-64.so.2" --library-path "\$root/usr/lib/x86_64-linux-gnu:\$root/lib/x86_64-linux-gnu" \\
  "\$root/usr/lib/postgresql/$major/bin/$tool" "\$@"
EOF
    chmod 755 "$tmp/bin/$tool"
  done
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

# Makes sure the client of major $1 is in the cache (fetching it under a lock, so two builds do not fetch it twice).
ensure() {
  local major=$1 dir="$cache/$1"
  if [ -e "$dir/.ok" ] && [ -e "$dir/bin/pg_basebackup" ]; then
    return
  fi
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -e "$dir/.ok" ] || [ ! -e "$dir/bin/pg_basebackup" ]; then # caches from before pg_basebackup was wanted are made again
    case "$major" in
      15) host_client 15 ;;
      17) debootstrap_client 17 trixie ;;
      18) debootstrap_client 18 sid ;;
      *) die "no pg_dump $major source known here (15: Debian 12, 17: trixie, 18: sid)" ;;
    esac
    check "$dir" "$major"
    touch "$dir/.ok"
  fi
  exec 9>&-
}

if [ "${1:-}" = --server ]; then
  [ $# = 3 ] || die "usage: $0 --server VERSION FILE"
  server=${2%%.*}
  client=$(client_for "$server")
  older=$(older_than "$server")
  ensure "$client"
  [ -z "$older" ] || ensure "$older"
  {
    echo "# written by .ci/pg-clients.sh for a PostgreSQL $2 server: the pg_dump the tests give pgshift, and an older one"
    echo "server.major=$server"
    echo "pg_dump=$cache/$client/bin/pg_dump"
    [ -z "$older" ] || echo "older.pg_dump=$cache/$older/bin/pg_dump"
  } >"$3"
  echo "pg-clients: PostgreSQL $server server: pg_dump $client${older:+, older pg_dump $older} ($cache)" >&2
else
  [ $# -gt 0 ] || die "usage: $0 MAJOR... | --server VERSION FILE"
  for major in "$@"; do
    ensure "$major"
    echo "$major=$cache/$major"
  done
fi
