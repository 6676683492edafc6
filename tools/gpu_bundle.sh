#!/usr/bin/env bash
# Build .whl/site.zip: the Python packages skxrd needs that the lent GPU
# machine's image lacks (it has Python 3.12 with torch, numpy, scipy,
# scikit-learn, h5py, joblib, tqdm, matplotlib, tabulate; no registry), as one
# zip to unpack onto PYTHONPATH there. Run once here, in the repository root:
#   bash tools/gpu_bundle.sh            # writes .whl/site.zip (~13 MB)
# then in the device call: carry [".whl"] and start with
#   python3 -m zipfile -e .whl/site.zip /tmp/site && export PYTHONPATH=/tmp/site:$PWD
# The working tree that travels is limited to 64 MiB: xrayutilities' two f1/f2
# tables (anomalous terms, which skxrd reads from elements.db) and larixite's web
# app are left out. Versions: those of this project's tested install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
grep -qx "/.whl/" .git/info/exclude 2>/dev/null || echo "/.whl/" >>.git/info/exclude
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=(
    skorch==1.4.0 spglib==2.8.0 xrayutilities==1.8.0 moyopy==0.21.0
    periodictable==2.1.0 imbalanced-learn==0.14.2 sklearn-compat==0.1.6
    larixite==2026.1.0
    # imported by xrayutilities at import time
    lmfit==1.3.4 odrpack==0.7.0 asteval==1.0.10 uncertainties==3.2.3 dill==0.4.1
)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$work/wheels" "${packages[@]}"
mkdir -p "$work/site" .whl
for wheel in "$work"/wheels/*.whl; do
    "$PY" -m zipfile -e "$wheel" "$work/site"
done
rm -f "$work"/site/xrayutilities/materials/data/f1f2_{asf_Kissel,Henke}.dat.xz
rm -rf "$work/site/larixite/webapp"
rm -f .whl/site.zip
(cd "$work/site" && OUT_ZIP="$work/site.zip" "$PY" - <<'EOF'
import os, zipfile

out = os.environ["OUT_ZIP"]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for root, _, files in os.walk("."):
        for name in files:
            path = os.path.join(root, name)
            z.write(path, path[2:])
EOF
)
mv "$work/site.zip" .whl/site.zip
ls -l .whl/site.zip
