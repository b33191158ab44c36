#!/usr/bin/env bash
# The README's main command (npm start runs setup, the TypeScript build, then this): reproduce the
# paper's tables and figures on the tiny synthetic preset, on the CPU, and say where the report is.
# A second run finds every stage done and only rewrites the report; NETFLOWGEN_DEMO_ARGS adds
# options (e.g. "--preset micro", "--redo report").
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# shellcheck disable=SC2086
node dist/ts/cli/main.js reproduce --preset tiny ${NETFLOWGEN_DEMO_ARGS:-}
end=$(date +%s)
printf '\nnetflowgen demo: %d s in all; open the report.html named above in a browser, or read report.md beside it.\n' "$((end - start))"
