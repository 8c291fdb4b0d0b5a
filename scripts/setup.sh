#!/usr/bin/env bash
# Installs the Debian packages Jaco needs, and only those that are missing: a second run is a
# no-op. `run` is what building and running jacod needs; `test` adds what the tests start.
#
#   scripts/setup.sh run     # liblmdb-dev libsqlite3-dev libssl-dev, and curl (the README's
#                            # quickstart reads the metrics and the Consul API with it)
#   scripts/setup.sh test    # the same, plus etcd-server (the etcd tests start real members),
#                            # openssl (its s_client checks the listeners' TLS), python3-venv
#                            # (a Python grpcio client and schemathesis, from PyPI) and iproute2
#                            # (`ip netns`: the etcd partition tests)
#
# As root it calls apt-get directly; otherwise through sudo. Used by `make run`, `make test`
# and .ci/run.
set -euo pipefail

purpose="${1:-test}"
# liblmdb-dev, libsqlite3-dev: the LMDB and SQLite engines (system-library targets).
# libssl-dev: OpenSSL headers, asked for by the TLS layers' C targets.
# curl: the README quickstart's HTTP calls.
run_packages=(liblmdb-dev libsqlite3-dev libssl-dev curl)
case "$purpose" in
run) wanted=("${run_packages[@]}") ;;
test) wanted=("${run_packages[@]}" etcd-server openssl python3-venv iproute2) ;;
*) echo "setup.sh: unknown purpose '$purpose' (valid: run, test)" >&2; exit 64 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: no dpkg-query: this is not a Debian-family system; install ${wanted[*]} (or your system's equivalents) by hand" >&2
  exit 1
fi

missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present (${wanted[*]})"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "setup.sh: missing ${missing[*]}, and not root with no sudo: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: installed ${missing[*]}"
