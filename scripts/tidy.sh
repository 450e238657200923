#!/usr/bin/env bash
# Runs clang-tidy-14 with the committed .clang-tidy over the translation units of a configured
# build (its compile_commands.json; CMAKE_EXPORT_COMMANDS is on in CMakeLists.txt). Every finding
# is an error (WarningsAsErrors), so the exit status is non-zero when there is any.
#
#   scripts/tidy.sh [BUILD_DIR] [FILE_REGEX]
#   scripts/tidy.sh --changed BASE [BUILD_DIR]
#
# BUILD_DIR defaults to build (configure it first: cmake --preset release). FILE_REGEX (a Python
# regex searched in each translation unit's absolute path) selects what is checked; the default
# is the code that ships: src/, apps/ and bench/, without the tests (*_test.cpp, tests/), whose
# findings are reserve() hints and copied fixtures, and which their own runs check. Headers are
# checked through the files that include them. Examples:
#   scripts/tidy.sh build 'src/(car|unixfs)/'          one area, tests included
#   scripts/tidy.sh build "$PWD/(src|apps|tests)/"     everything, tests included
# --changed BASE checks only the shipped translation units a change touches: the .cpp files that
# differ from git revision BASE, and the .cpp files beside a changed header (foo.cpp for foo.hpp);
# CI runs it on the last commit (BASE = HEAD~1), as it runs check-format.sh. Nothing changed:
# nothing to check, exit 0.
# Jobs: CAIRN_JOBS (default: number of cores).
#
# Only compiler flags clang understands matter: the build's own warnings are g++'s business, so
# clang's are not errors here (-Wno-error) and g++-only warning options are ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--changed" ]; then
  base=${2:?"tidy: --changed needs a git revision"}
  build=${3:-build}
  git rev-parse --verify --quiet "$base^{commit}" >/dev/null || {
    echo "tidy: '$base' is not a git revision" >&2
    exit 2
  }
  units=()
  while IFS= read -r file; do
    case "$file" in
      *_test.cpp | *_test.hpp) continue ;;
      *.hpp) file=${file%.hpp}.cpp ;;
    esac
    [ -f "$file" ] && units+=("$file")
  done < <(git diff --name-only --diff-filter=ACMR --no-ext-diff "$base" -- \
             'src/*.cpp' 'src/*.hpp' 'apps/*.cpp' 'apps/*.hpp' 'bench/*.cpp' 'bench/*.hpp' | sort -u)
  if [ ${#units[@]} -eq 0 ]; then
    echo "tidy: no shipped translation unit changed since $base"
    exit 0
  fi
  # An alternation of the exact paths (regex metacharacters in names are escaped).
  regex="^$PWD/($(printf '%s\n' "${units[@]}" | sort -u | sed 's/[.+]/\\&/g' | paste -sd'|'))\$"
else
  build=${1:-build}
  regex=${2:-"^$PWD/(src|apps|bench)/(?!.*_test\\.cpp\$)"}
fi
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
