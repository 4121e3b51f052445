"""`elephant-fit demo --quick` end to end: files, table and figures."""

from __future__ import annotations

import json

import pytest

from elephant_fit import from_neo
from elephant_fit.cli.commands import main


def test_quick_demo_writes_recording_table_and_figures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--quiet", "--out", str(out), "--device", "cpu"]) == 0
    table = json.loads((out / "demo.json").read_text())
    assert set(table) == {"NLL only", "NLL + SM, hidden"}
    expected = {
        "bits/spike",
        "PSTH R2",
        "NC R2 (10 ms)",
        "NC r (50 ms)",
        "mean-rate error (Hz)",
        "Fano-factor error",
        "coupling r",
        "coupling R2",
        "coupling slope",
    }
    assert expected <= set(table["NLL only"])
    assert table["NLL only"]["bits/spike s.e."] == 0  # exact without hidden neurons
    assert table["NLL + SM, hidden"]["bits/spike s.e."] > 0  # particle filter
    assert "| NC R2 (10 ms) |" in (out / "demo.md").read_text()
    data = from_neo(out / "recording.pkl", bin_size=__import__("quantities").ms * 10)
    assert data.counts.shape == (150, 100, 20)
    for figure in ("rasters.png", "psth.png", "noise_correlations.png", "coupling.png"):
        assert (out / figure).stat().st_size > 1000
    assert "NLL + SM, hidden" in capsys.readouterr().out


def test_quick_demo_on_the_retina_recording(tmp_path, capsys):
    out = tmp_path / "retina"
    assert (
        main(
            ["demo", "--data", "retina", "--quick", "--quiet", "--out", str(out), "--device", "cpu"]
        )
        == 0
    )
    table = json.loads((out / "demo.json").read_text())
    assert "coupling r" not in table["NLL only"]
    assert {"PSTH R2", "NC R2 (20 ms)", "NC R2 (50 ms)"} <= set(table["NLL + SM, hidden"])
    assert (out / "coupling.png").exists()  # fitted coupling as heat maps (no ground truth)
    assert (out / "psth.png").exists()


def test_demo_unknown_data_is_refused_clearly(tmp_path, capsys):
    assert main(["demo", "--data", "mouse", "--out", str(tmp_path)]) == 2
    assert "--data" in capsys.readouterr().err


@pytest.mark.gpu
def test_quick_demo_on_cuda(tmp_path):
    out = tmp_path / "cuda"
    assert main(["demo", "--quick", "--quiet", "--out", str(out), "--device", "cuda"]) == 0
    assert (out / "demo.json").exists()
