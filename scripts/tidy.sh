#!/usr/bin/env bash
# Runs clang-tidy-14 with the committed .clang-tidy over the translation units of a configured
# build (its compile_commands.json; CMAKE_EXPORT_COMMANDS is on in CMakeLists.txt). Every finding
# is an error (WarningsAsErrors), so the exit status is non-zero when there is any.
#
#   scripts/tidy.sh [BUILD_DIR] [FILE_REGEX]
#
# BUILD_DIR defaults to build (configure it first: cmake --preset release). FILE_REGEX (a Python
# regex searched in each translation unit's absolute path) selects what is checked; the default
# is the code that ships: src/, apps/ and bench/, without the tests (*_test.cpp, tests/), whose
# findings are reserve() hints and copied fixtures, and which their own runs check. Headers are
# checked through the files that include them. Examples:
#   scripts/tidy.sh build 'src/(car|unixfs)/'          one area, tests included
#   scripts/tidy.sh build "$PWD/(src|apps|tests)/"     everything, tests included
# Jobs: CAIRN_JOBS (default: number of cores).
#
# Only compiler flags clang understands matter: the build's own warnings are g++'s business, so
# clang's are not errors here (-Wno-error) and g++-only warning options are ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
regex=${2:-"^$PWD/(src|apps|bench)/(?!.*_test\\.cpp\$)"}
jobs=${CAIRN_JOBS:-$(nproc)}

if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy: $build/compile_commands.json not found: configure the build first" >&2
  exit 2
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
run-clang-tidy-14 -p "$build" -clang-tidy-binary "$(command -v clang-tidy-14)" -j "$jobs" -quiet \
  -extra-arg=-Wno-error -extra-arg=-Wno-unknown-warning-option "$regex" >"$log" 2>&1 || status=$?
# Keep the findings and their context; drop the per-file progress lines and warning counts.
grep -vE '^(\S*clang-tidy-14 |Running clang-tidy|[0-9]+ warnings? (and [0-9]+ errors? )?generated\.|Suppressed [0-9]+ warnings|Use -header-filter|Error while processing)' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "tidy: findings above (.clang-tidy lists the checks and why some are off)" >&2
  exit 1
fi
echo "tidy: clean (translation units of $build matching $regex)"
