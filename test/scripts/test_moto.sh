#!/usr/bin/env bash
# Integration test against moto_server (a third-party IoT Jobs mock): create a thing and a job
# with boto3, delete the execution with the library (example 1) and the CLI, check it is gone;
# missing executions; moto's 500 HTML answer. Skips loudly when moto or boto3 is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not found"
python3 -c 'import boto3, moto' 2>/dev/null || skip "python3 boto3/moto not installed"
command -v moto_server >/dev/null || python3 -c 'import moto.server' 2>/dev/null || skip "moto_server not found"
exec python3 "$(dirname "$0")/moto/moto_test.py"
