#!/usr/bin/env bash
# Create a separate virtual environment holding the peer tool relucent (AGPL),
# used only by benchmarks/relucent_runner.py for benchmarks and cross-checks.
# complexlib itself never imports relucent.
#
# Usage: bash benchmarks/setup_relucent_venv.sh [VENV_DIR]   (default: .venv-relucent)
# Keep VENV_DIR out of git (it is large: torch + gurobipy).
set -euo pipefail
VENV="${1:-.venv-relucent}"
python3 -m venv "$VENV"
# torch FIRST and pinned: this machine's pip config finds a CPU wheel on disk;
# letting relucent pull an unpinned torch could fetch a multi-GB CUDA build.
"$VENV/bin/pip" install torch==2.13.0
# relucent brings gurobipy (pip licence, size-limited; fine for small nets),
# numpy, scipy, networkx, plotly, tqdm.
"$VENV/bin/pip" install relucent==1.0.0
"$VENV/bin/python" -c "import relucent, torch; print('relucent', relucent.__version__, 'torch', torch.__version__)"
