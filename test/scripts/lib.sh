# Shared helpers for the script tests (sourced).
# - a clean AWS environment (no host ~/.aws, no AWS_* variables, IMDS off)
# - IOTJOBS_BIN_DIR / IOTJOBS_SOURCE_DIR
# - skip(): exit 77 with a loud message (ctest reports the test as skipped)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IOTJOBS_SOURCE_DIR=${IOTJOBS_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
IOTJOBS_BIN_DIR=${IOTJOBS_BIN_DIR:-$IOTJOBS_SOURCE_DIR/build/bin}
export IOTJOBS_SOURCE_DIR IOTJOBS_BIN_DIR
source "$IOTJOBS_SOURCE_DIR/scripts/clean-aws-env"
unset AWS_PROFILE
skip() {
  echo "************************************************************" >&2
  echo "SKIPPED: $*" >&2
  echo "************************************************************" >&2
  exit 77
}
