#!/usr/bin/env bash
# tools/iotjobs/completion.bash in bash: commands, a command's options (and the global ones), the
# values of --output and --status. (That the file matches the commands is a unit test:
# unit.cli_output.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
source "$root/tools/iotjobs/completion.bash"
fails=0
expect() {  # expect "<words>" word-that-must-be-offered [word-that-must-not]
  local words=$1 want=$2 unwanted=${3:-}
  read -r -a COMP_WORDS <<< "$words"
  if [[ "$words" == *" " ]]; then COMP_WORDS+=(""); fi
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _iotjobs
  local got=" ${COMPREPLY[*]} "
  if [[ "$got" != *" $want "* ]] || { [[ -n "$unwanted" ]] && [[ "$got" == *" $unwanted "* ]]; }; then
    echo "FAIL '$words': got [${COMPREPLY[*]}], want $want${unwanted:+, not $unwanted}"
    fails=$((fails + 1))
  else
    echo "ok   '$words' -> $want"
  fi
}
expect "iotjobs desc" describe-job-execution
expect "iotjobs list-job-executions-for-" list-job-executions-for-thing
expect "iotjobs list-job-executions-for-job --ma" --max-items --input
expect "iotjobs list-job-executions-for-job --ma" --max-attempts
expect "iotjobs cancel-job-execution --" --expected-version --max-items
expect "iotjobs bulk-delete --sk" --skip-done
expect "iotjobs --output " table
expect "iotjobs purge --job-id j --status IN" IN_PROGRESS
exit $((fails > 0))
