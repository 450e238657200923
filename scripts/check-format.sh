#!/usr/bin/env bash
# Checks C++ formatting with clang-format-14 and the committed .clang-format, without changing
# any file (--dry-run --Werror).
#
#   scripts/check-format.sh [BASE]   the lines of C++ files (*.cpp, *.hpp, *.h) that differ from
#                                    git revision BASE (default HEAD~1: the last commit; the work
#                                    tree counts, so `HEAD` checks uncommitted changes). Only the
#                                    changed lines are checked: a file touched for one line does
#                                    not have to be reformatted whole.
#   scripts/check-format.sh --all    every tracked C++ file, whole (fails until the tree has been
#                                    formatted once, in a commit of its own).
#
# Prints clang-format's complaints (file:line and the expected layout) and exits 1 when there are
# any. To fix the reported lines in place: clang-format-14 -i --lines=A:B FILE (or, for a whole
# file, clang-format-14 -i FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
format=${CLANG_FORMAT:-clang-format-14}
pathspec=('*.cpp' '*.hpp' '*.h' ':!:**/node_modules/**')

if [ "${1:-}" = "--all" ]; then
  git ls-files -z -- "${pathspec[@]}" | xargs -0 -r "$format" --dry-run --Werror
  echo "check-format: every tracked C++ file is formatted"
  exit 0
fi

base=${1:-HEAD~1}
git rev-parse --verify --quiet "$base^{commit}" >/dev/null || {
  echo "check-format: '$base' is not a git revision" >&2
  exit 2
}
status=0
checked=0
# Added, copied, modified and renamed files that still exist.
while IFS= read -r -d '' file; do
  [ -f "$file" ] || continue
  # New-side line ranges of the hunks (`@@ -a,b +c,d @@`: lines c .. c+d-1; d = 0 is a deletion).
  lines=()
  while read -r start count; do
    [ "$count" = 0 ] && continue
    lines+=("--lines=$start:$((start + count - 1))")
  done < <(git diff -U0 --no-color --no-ext-diff "$base" -- "$file" |
           sed -n 's/^@@ -[0-9,]* +\([0-9]*\)\(,\([0-9]*\)\)\{0,1\} @@.*/\1 \3/p' |
           awk '{ print $1, ($2 == "" ? 1 : $2) }')
  [ ${#lines[@]} -eq 0 ] && continue
  checked=$((checked + 1))
  "$format" --dry-run --Werror "${lines[@]}" "$file" || status=1
done < <(git diff -z --name-only --diff-filter=ACMR --no-ext-diff "$base" -- "${pathspec[@]}")

if [ "$status" -ne 0 ]; then
  echo "check-format: changed lines are not formatted (see above; .clang-format, clang-format-14)" >&2
  exit 1
fi
echo "check-format: changed lines of $checked file(s) since $base are formatted"
