#!/usr/bin/env bash
# The collection's documentation site: antsibull-docs writes a Sphinx project for swarmops.ha into DOCS (default
# build/docs) and builds it, HTML in DOCS/build/html.
#
# DOCS_OFFLINE=1 (the default) builds without Ansible's intersphinx inventories, which are downloaded from
# docs.ansible.com: where that cannot be reached, links into Ansible's own documentation (common return values,
# configuration settings, cache plugin variables) cannot resolve, so those two kinds of warnings are not errors.
# Every other Sphinx warning still fails the build. DOCS_OFFLINE=0 builds exactly as antsibull-docs' build.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/.venv/bin}
DOCS=${DOCS:-build/docs}
DOCS_OFFLINE=${DOCS_OFFLINE:-1}
export PATH="$BIN:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/.collections"

rm -rf "$DOCS"
mkdir -p "$(dirname "$DOCS")"
mkdir -m 700 "$DOCS"  # antsibull-docs writes only into a folder that only its owner can write to
antsibull-docs sphinx-init --use-current --dest-dir "$DOCS" swarmops.ha >/dev/null
if [[ $DOCS_OFFLINE == 1 ]]; then
  cat >>"$DOCS/conf.py" <<'PY'

# scripts/docs.sh, DOCS_OFFLINE=1: no intersphinx inventories, so references into Ansible's docs stay unresolved.
intersphinx_mapping = {}
suppress_warnings = ['ref.ref', 'ref.envvar']
PY
fi
bash "$DOCS/build.sh"
echo "docs: $DOCS/build/html/index.html"
