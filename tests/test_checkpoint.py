"""Checkpoints: a search killed with SIGKILL resumes and ends with the same complex."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import complexlib as cl

SCRIPT = """
import sys
import complexlib as cl
cx = cl.Complex(cl.mlp([2, 32, 32, 1], seed=3))
cx.bfs(progress=False, batch_size=8, checkpoint=sys.argv[1], checkpoint_every=16)
print("done", len(cx))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_and_resume(tmp_path):
    path = tmp_path / "ck.npz"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not path.exists():
        time.sleep(0.05)
    assert path.exists(), "no checkpoint was written"
    first = path.stat().st_mtime_ns
    while time.time() < deadline and path.stat().st_mtime_ns == first:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = cl.Complex.load(path)
    assert not killed.complete and 0 < len(killed)  # it really died mid-search
    out = subprocess.run(
        [sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    resumed = cl.Complex.load(path)
    ref = cl.Complex(cl.mlp([2, 32, 32, 1], seed=3))
    ref.bfs(progress=False)
    assert resumed.complete and len(resumed) > len(killed)
    assert np.array_equal(resumed.patterns, ref.patterns)
    assert np.array_equal(resumed.edges()[0], ref.edges()[0])
    assert np.array_equal(resumed.face_counts(), ref.face_counts())


def test_checkpoint_of_another_network_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    cl.Complex(cl.mlp([2, 4, 1], seed=0)).bfs(progress=False, checkpoint=path)
    with pytest.raises(ValueError, match="holds another network"):
        cl.Complex(cl.mlp([2, 4, 1], seed=1)).bfs(progress=False, checkpoint=path)
    with pytest.raises(ValueError, match="holds the domain"):
        cl.Complex(cl.mlp([2, 4, 1], seed=0), bound=1.0).bfs(progress=False, checkpoint=path)


def test_finished_checkpoint_is_reused(tmp_path):
    path = tmp_path / "ck.npz"
    a = cl.Complex(cl.mlp([2, 6, 6, 1], seed=0))
    a.bfs(progress=False, checkpoint=path, checkpoint_every=5)
    b = cl.Complex(cl.mlp([2, 6, 6, 1], seed=0))
    b.bfs(progress=False, checkpoint=path)
    assert np.array_equal(a.patterns, b.patterns) and b.complete
