#!/bin/sh
# Renke's one install as deployed, used by the Dockerfile and tests/system/test_installed_package.py:
# build the wheel from a clean copy of the sources, then install that wheel (not editable).
#   usage: scripts/install-package.sh PYTHON [pip install option...]
#   WHEEL_DIR=dir keeps the built wheel there (default: a temporary directory, removed at the end)
set -eu
python=$1
shift
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The build writes build/ and *.egg-info next to the sources: into the copy, never into the checkout
# (or a read-only mount), and without a developer's __pycache__.
mkdir "$work/src"
(cd "$src" && tar -cf - --exclude=__pycache__ pyproject.toml README.md scoring service survey_templates) \
  | tar -xf - -C "$work/src"
wheels=${WHEEL_DIR:-$work/wheels}
"$python" -m pip wheel --quiet --no-deps --no-cache-dir --wheel-dir "$wheels" "$work/src"
"$python" -m pip install --quiet --no-cache-dir "$@" "$wheels"/renke-*.whl
