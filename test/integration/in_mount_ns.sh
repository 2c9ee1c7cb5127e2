#!/usr/bin/env bash
# Runs a command in new user, network and mount namespaces (loopback up, nothing else) where
# /etc/hosts is a bind mount of a temporary file the command may rewrite in place; its path is in
# IOTJOBS_TEST_HOSTS. Exits 77 (ctest: skipped) when the machine cannot make such namespaces or
# name lookups there do not read that file (e.g. an nscd answering from the host's).
# Usage: in_mount_ns.sh COMMAND [ARG...]
set -euo pipefail
hosts=$(mktemp /tmp/iotjobs-hosts.XXXXXX)
trap 'rm -f "$hosts"' EXIT
printf '127.0.0.1 localhost\n127.0.0.1 iotjobs-probe.test\n' >"$hosts"
if ! unshare -rnm true 2>/dev/null; then
  echo "in_mount_ns.sh: SKIPPED: no user + network + mount namespaces here (unshare -rnm failed)" >&2
  exit 77
fi
export IOTJOBS_TEST_HOSTS="$hosts"
unshare -rnm bash -c '
  ip link set lo up && mount --bind "$IOTJOBS_TEST_HOSTS" /etc/hosts || exit 77
  if ! getent hosts iotjobs-probe.test >/dev/null; then
    echo "in_mount_ns.sh: SKIPPED: name lookups do not read the bind-mounted /etc/hosts" >&2
    exit 77
  fi
  exec "$@"' bash "$@"
