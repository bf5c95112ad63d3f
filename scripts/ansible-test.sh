#!/usr/bin/env bash
# ansible-test for the collection, from a copy of the checkout: scripts/ansible-test.sh sanity|units [args...]
#
# ansible-test wants the collection at .../ansible_collections/swarmops/ha and refuses a symlinked directory, so the
# files git knows (tracked, and new ones not ignored) are copied into a scratch tree outside the repository
# (SANITY_ROOT, kept between runs so ansible-test's own results and caches there are reused) and tested there.
#
# Which Python runs what:
#   sanity: every sanity test once, with the controller's Python (SANITY_CONTROLLER_PYTHON); then compile and import
#     on every other Python the code declares (SANITY_NODE_PYTHONS): modules and module_utils run on the nodes,
#     which may have Python 3.9, and ansible-test tests controller plugins only on controller versions (3.11+).
#   units: the unit tests on the controller's Python (they test the inventory plugin, controller code).
# Pythons are found on PATH or in pyenv's versions folder and linked into one folder put first on PATH.
# Extra arguments are passed to every ansible-test call (e.g. --test pylint, -v).
set -euo pipefail
command=${1:?usage: scripts/ansible-test.sh sanity|units [ansible-test arguments]}
shift
cd "$(dirname "$0")/.."
CHECKOUT=$PWD
BIN=${BIN:-$CHECKOUT/.venv/bin}
SANITY_CONTROLLER_PYTHON=${SANITY_CONTROLLER_PYTHON:-3.11}
SANITY_NODE_PYTHONS=${SANITY_NODE_PYTHONS-3.9 3.10 3.12 3.13}
PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
SANITY_ROOT=${SANITY_ROOT:-${TMPDIR:-/tmp}/swarmops-ha-sanity-$(printf '%s' "$CHECKOUT" | cksum | cut -d' ' -f1)}
TREE=$SANITY_ROOT/ansible_collections/swarmops/ha
PYTHONS=$SANITY_ROOT/pythons

find_python() {  # version -> path of a working interpreter, or nothing
  local version=$1 candidate
  for candidate in "$(command -v "python$version" || true)" "$PYENV_ROOT"/versions/"$version".*/bin/python"$version"; do
    if [[ -n $candidate && -x $candidate ]] && "$candidate" -c 'pass' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
}

mkdir -p "$PYTHONS" "$TREE"
for version in $SANITY_CONTROLLER_PYTHON $SANITY_NODE_PYTHONS; do
  python=$(find_python "$version")
  if [[ -z $python ]]; then
    echo "sanity: no python$version on PATH or in $PYENV_ROOT/versions" >&2
    exit 1
  fi
  ln -sfn "$python" "$PYTHONS/python$version"
done
export PATH=$PYTHONS:$PATH

# ansible-test bootstraps pip in its virtual environments with a get-pip script from its cache, downloading it when
# missing; put the stand-in there under the name ansible-test looks for.
pip_version=$("$BIN/python" -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3"))["pip"])')
mkdir -p "$HOME/.ansible/test/cache"
cp scripts/get_pip_standin.py "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

# The copy: what git would commit now, nothing it ignores; ansible-test's tests/output is kept.
find "$TREE" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
if [[ -d $TREE/tests ]]; then
  find "$TREE/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
fi
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' path; do if [[ -e $path || -L $path ]]; then printf '%s\0' "$path"; fi; done \
  | tar --null -T - -cf - | tar -xf - -C "$TREE"

cd "$TREE"
case $command in
  sanity)
    echo "sanity: every test on Python $SANITY_CONTROLLER_PYTHON in $TREE"
    "$BIN/ansible-test" sanity --color no --python "$SANITY_CONTROLLER_PYTHON" "$@"
    for version in $SANITY_NODE_PYTHONS; do
      echo "sanity: compile and import on Python $version"
      "$BIN/ansible-test" sanity --color no --python "$version" --test compile --test import "$@"
    done
    ;;
  units)
    echo "units: on Python $SANITY_CONTROLLER_PYTHON in $TREE"
    "$BIN/ansible-test" units --color no --venv --requirements --python "$SANITY_CONTROLLER_PYTHON" "$@"
    ;;
  *)
    echo "scripts/ansible-test.sh: $command is not sanity or units" >&2
    exit 2
    ;;
esac
