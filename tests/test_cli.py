"""Smoke tests of the complexlib command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import complexlib as cl
from complexlib.cli import main


def test_enumerate_and_info(tmp_path, capsys):
    out = tmp_path / "c.npz"
    assert (
        main(
            [
                "enumerate",
                "--widths",
                "2,6,6,1",
                "--seed",
                "1",
                "--bound",
                "1",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert out.exists()
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    cx = cl.Complex(cl.mlp([2, 6, 6, 1], seed=1), bound=1.0)
    cx.bfs(progress=False)
    assert summary["regions"] == len(cx)


def test_enumerate_saved_model(tmp_path, capsys):
    model = tmp_path / "net.pt"
    torch.save(cl.mlp([3, 5, 1], seed=2), model)
    assert main(["enumerate", "--model", str(model), "--no-progress"]) == 0
    assert "regions: 26" in capsys.readouterr().out  # 1 + 5 + 10 + 10


def test_enumerate_needs_one_network():
    with pytest.raises(SystemExit, match="exactly one of --model"):
        main(["enumerate", "--no-progress"])


def test_bad_widths(capsys):
    with pytest.raises(SystemExit):
        main(["enumerate", "--widths", "2,x,1"])
    assert "comma-separated integers" in capsys.readouterr().err


def test_demo_writes_figure(tmp_path):
    html = tmp_path / "complex.html"
    r = subprocess.run(
        [sys.executable, "-m", "complexlib.cli", "demo", "--no-progress", "--html", str(html)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "regions" in r.stdout and html.exists()
    text = html.read_text()
    assert "plotly" in text.lower() and text.count('"fill":"toself"') > 100


@pytest.mark.parametrize(
    "cmd", [["--help"], ["demo", "--help"], ["enumerate", "--help"], ["info", "--help"]]
)
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main(cmd)
    assert e.value.code == 0
    assert "usage: complexlib" in capsys.readouterr().out
