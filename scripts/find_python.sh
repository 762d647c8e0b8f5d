#!/usr/bin/env bash
# Used by the Makefile's default PYTHON: print the newest Python 3.13, 3.12 or 3.11 (3.11.5+)
# that runs here, trying in turn python3.13/python3.12/python3.11 on PATH (a pyenv shim counts
# only if it runs), pyenv's installed versions (newest patch first), and uv's (`uv python
# find`); free-threaded builds (no TensorFlow wheels) are skipped. Without an argument, when
# none is found it prints `python3` (check_python.sh then says why it does not do and how to
# get one). With an argument (`find_python.sh 3.11`) only that Python is looked for, and
# nothing is printed and the exit status is 1 when there is none.
works() {
  "$1" -c 'import sys, sysconfig
ok = (3, 11, 5) <= sys.version_info[:3] and sys.version_info[:2] <= (3, 13)
sys.exit(0 if ok and not sysconfig.get_config_var("Py_GIL_DISABLED") else 1)' >/dev/null 2>&1
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
    while IFS= read -r dir; do
      [ -n "$dir" ] && candidates+=("$dir/bin/python")
    done < <(ls -d "$root"/versions/3."$minor".* 2>/dev/null | sort -V -r)
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
if [ -n "${1:-}" ]; then
  exit 1
fi
command -v python3 || echo python3
