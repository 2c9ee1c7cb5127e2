#!/usr/bin/env bash
# The AWS SDK for JavaScript v3 (@aws-sdk/client-iot) against iotjobs-fake-iot over TLS: the same
# cases as test_fake_boto3.sh. The SDK is installed with npm into build/node-peers/ at test time
# (IOTJOBS_NODE_DIR overrides), never into the repository. Exit 77 (skipped) when node/npm is
# missing or the install fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/fake/common.sh"
command -v node >/dev/null 2>&1 || skip "node not found"
command -v npm >/dev/null 2>&1 || skip "npm unavailable"
node_dir="${IOTJOBS_NODE_DIR:-$root/build/node-peers}"
if [[ ! -d "$node_dir/node_modules/@aws-sdk/client-iot" || ! -d "$node_dir/node_modules/@smithy/node-http-handler" ]]; then
  mkdir -p "$node_dir"
  [[ -f "$node_dir/package.json" ]] || echo '{"name": "iotjobs-node-peers", "private": true}' > "$node_dir/package.json"
  echo "installing @aws-sdk/client-iot into $node_dir"
  if ! (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error \
          @aws-sdk/client-iot @smithy/node-http-handler >&2); then
    skip "npm unavailable: npm install @aws-sdk/client-iot failed"
  fi
fi
# scripts/test installs the SDK before it cuts the tests off from the network.
if [[ "${1:-}" == "--install-only" ]]; then exit 0; fi
fake_start --seed "$here/fake/seed.json" --rate-limit DescribeJobExecution=1 --burst 1 --threads 2
node "$here/fake/js_cases.mjs" "$node_dir" "$FAKE_URL" "$FAKE_CA"
