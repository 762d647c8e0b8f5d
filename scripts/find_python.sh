#!/usr/bin/env bash
# Used by the Makefile's default PYTHON: print the newest Python 3.13, 3.12 or 3.11 (3.11.5+)
# that runs here, trying in turn python3.13/python3.12/python3.11 on PATH (a pyenv shim counts
# only if it runs), pyenv's installed versions, and uv's (`uv python find`); else print
# `python3` (check_python.sh then says why it does not do and how to get one).
# With an argument (`find_python.sh 3.11`), only that Python is looked for.
works() {
  "$1" -c 'import sys; sys.exit(0 if (3, 11, 5) <= sys.version_info[:3] and sys.version_info[:2] <= (3, 13) else 1)' \
    >/dev/null 2>&1
}
minors="13 12 11"
if [ -n "${1:-}" ]; then
  minors="${1#3.}"
fi
for minor in $minors; do
  candidates=()
  path=$(command -v "python3.$minor" 2>/dev/null) && candidates+=("$path")
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root 2>/dev/null)
    for dir in $(ls -d "$root"/versions/3."$minor".* 2>/dev/null | sort -t. -k3 -n -r); do
      candidates+=("$dir/bin/python")
    done
  fi
  if command -v uv >/dev/null 2>&1; then
    path=$(uv python find "3.$minor" 2>/dev/null) && candidates+=("$path")
  fi
  for candidate in "${candidates[@]}"; do
    if works "$candidate"; then
      echo "$candidate"
      exit 0
    fi
  done
done
command -v python3 || echo python3
