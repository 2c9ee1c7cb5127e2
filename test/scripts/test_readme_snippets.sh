#!/usr/bin/env bash
# The README's C++ blocks are the regions of compiled examples and tests they name
# (scripts/readme_snippets): fails when a block differs from its region or names none.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec python3 "$root/scripts/readme_snippets" --check
