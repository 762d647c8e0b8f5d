#!/usr/bin/env bash
# Used by `make venv`: exit 0 if "$1" is a Python 3.11 (3.11.5 or newer), else say exactly how
# to get one and exit 1. TensorFlow 2.15, which TF Privacy 0.8.12 needs, has wheels for
# Python 3.9 to 3.11 only, and the lock needs 3.11.5+ (soupsieve), so a laptop's default
# Python 3.12 or 3.13 cannot install it.
python="$1"
found=""
if [ -n "$python" ] && command -v "$python" >/dev/null 2>&1; then
  if "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) and sys.version_info >= (3, 11, 5) else 1)' 2>/dev/null; then
    exit 0
  fi
  found=$("$python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo "unknown version")
  found="PYTHON=$python is Python $found"
else
  found="no Python found (PYTHON='$python')"
fi
cat >&2 <<MSG

This project needs Python 3.11 (3.11.5 or newer): TensorFlow 2.15, which TF Privacy 0.8.12
needs, has no wheels for Python 3.12 or 3.13. Here $found.
Get a Python 3.11 in one of these ways (none changes your system's default python), then
run make again:

  uv (fastest; https://docs.astral.sh/uv/ to install uv itself):
      uv python install 3.11
      make venv PYTHON="\$(uv python find 3.11)"       # make also finds it by itself

  pyenv:
      pyenv install 3.11
      make venv PYTHON="\$(pyenv root)/versions/\$(pyenv latest 3.11)/bin/python"

  conda / mamba (see "The conda route" in README.md for the whole environment):
      conda create -n py311 python=3.11
      make venv PYTHON="\$(conda run -n py311 which python)"

  Debian/Ubuntu packages, where the release has them: sudo apt-get install python3.11 python3.11-venv
  Homebrew (macOS):                                  brew install python@3.11

Windows: use WSL2 (Ubuntu) and follow the Linux steps; see README.md.
MSG
exit 1
