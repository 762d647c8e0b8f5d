#!/usr/bin/env bash
# Used by `make venv`: exit 0 if "$1" is a Python 3.11 (3.11.5 or newer), 3.12 or 3.13, else
# say exactly how to get one and exit 1. The lock pins the same versions for all three
# (TensorFlow 2.21); it needs 3.11.5+ (soupsieve), and TensorFlow 2.21 has no wheels for 3.14.
python="$1"
found=""
if [ -n "$python" ] && command -v "$python" >/dev/null 2>&1; then
  if "$python" -c 'import sys; sys.exit(0 if (3, 11, 5) <= sys.version_info[:3] and sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null; then
    exit 0
  fi
  found=$("$python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo "unknown version")
  found="PYTHON=$python is Python $found"
else
  found="no Python found (PYTHON='$python')"
fi
cat >&2 <<MSG

This project needs Python 3.11 (3.11.5 or newer), 3.12 or 3.13: TensorFlow 2.21 has wheels
for those. Here $found.
Get one in one of these ways (none changes your system's default python), then run make
again:

  uv (fastest; https://docs.astral.sh/uv/ to install uv itself):
      uv python install 3.13
      make venv                                          # make finds uv's Python by itself

  pyenv:
      pyenv install 3.13
      make venv                                          # make finds pyenv's versions too

  conda / mamba (see "The conda route" in README.md for the whole environment):
      conda create -n py313 python=3.13
      make venv PYTHON="\$(conda run -n py313 which python)"

  Debian/Ubuntu packages, where the release has them: sudo apt-get install python3.12 python3.12-venv
  Homebrew (macOS):                                  brew install python@3.13
  Windows (native or WSL2): the python.org installer for 3.13, or uv; see README.md.
MSG
exit 1
