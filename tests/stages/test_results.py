"""RESULTS.md and the quality-vs-depth plot from scoring summaries."""

import json
import math

import numpy as np
import pytest
from matplotlib.image import imread

from espnet2_tisdiss.bin import make_results as make_results_cli
from espnet2_tisdiss.stages import results, scoring
from tests.stages.test_scoring import make_set, write_depth

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_summary(folder, test_set, depths):
    """``depths``: {k: (si_snri, rtf or None)}; the other metrics follow from si_snri."""
    folder.mkdir(parents=True)
    summary = {"test_set": test_set, "num_utts": 5, "depths": {
        str(k): {"si_snr": g + 0.5, "si_snri": g, "sdr": g + 1.0, "sdri": g + 0.75, "stoi": 0.9 + g / 1000,
                 "rtf": rtf} for k, (g, rtf) in depths.items()}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


@pytest.fixture
def two_sets(tmp_path):
    return [write_summary(tmp_path / "decode" / "test", "test", {1: (12.345, 0.1), 4: (15.0, 0.4), 12: (16.0, 1.2)}),
            write_summary(tmp_path / "decode" / "valid", "valid", {1: (11.0, None), 4: (14.6, None)})]


def table_rows(text):
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| dataset")]


def test_results_md_and_plot(two_sets, tmp_path):
    output, plot = tmp_path / "exp" / "RESULTS.md", tmp_path / "exp" / "quality_vs_depth.png"
    table = results.make_results(two_sets, output, plot, title="tisdiss_small (valid.loss.best)",
                                 model_info="config: conf/tuning/small.yaml, 1.2 M parameters")
    text = output.read_text()
    assert table in text
    assert text.index("# RESULTS") < text.index("## Environments") < text.index("- date: `")
    assert "- python version: `" in text and "- pytorch version: `pytorch " in text
    assert "- espnet version: `espnet " in text
    assert ("- Git hash: `" in text) == (results._git("rev-parse", "HEAD") is not None)
    assert text.index("## tisdiss_small (valid.loss.best)") < text.index("1.2 M parameters") < text.index(table)
    assert "| dataset | depth | SI-SNR | SI-SNRi | SDR | SDRi | STOI | RTF |" in table
    rows = table_rows(table)
    assert rows == [
        "| test | 1 | 12.85 | 12.35 | 13.35 | 13.10 | 0.912 | 0.10 |",
        "| test | 4 | 15.50 | 15.00 | 16.00 | 15.75 | 0.915 | 0.40 |",
        "| test | 12 | 16.50 | 16.00 | 17.00 | 16.75 | 0.916 | 1.20 |",
        "| valid | 1 | 11.50 | 11.00 | 12.00 | 11.75 | 0.911 | - |",
        "| valid | 4 | 15.10 | 14.60 | 15.60 | 15.35 | 0.915 | - |",
    ]
    data = plot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    image = imread(plot)
    assert image.ndim == 3 and image.shape[1] > image.shape[0] > 100
    assert not list(plot.parent.glob(".*partial"))  # atomic writes leave no temporary file


def test_plot_panels_axes_and_lines(two_sets):
    figure = results.plot_figure([results.load_summary(d) for d in two_sets])
    by_depth, by_rtf = figure.axes
    assert by_depth.get_ylabel() == by_rtf.get_ylabel() == "SI-SNRi [dB]"
    assert "depth" in by_depth.get_xlabel() and "real-time factor" in by_rtf.get_xlabel()
    assert [line.get_label() for line in by_depth.get_lines()] == ["test", "valid"]
    test_line = by_depth.get_lines()[0]
    assert list(test_line.get_xdata()) == [1, 4, 12]
    np.testing.assert_allclose(test_line.get_ydata(), [12.345, 15.0, 16.0])
    np.testing.assert_allclose(by_rtf.get_lines()[0].get_xdata(), [0.1, 0.4, 1.2])
    assert all(math.isnan(x) for x in by_rtf.get_lines()[1].get_xdata())  # no timing: not drawn


def test_cli_prints_table_and_paths(two_sets, tmp_path, capsys):
    output, plot = tmp_path / "RESULTS.md", tmp_path / "plot.png"
    make_results_cli.main(["--decode_dirs", *map(str, two_sets), "--output", str(output), "--plot", str(plot)])
    out = capsys.readouterr().out
    assert len(table_rows(out)) == 5
    assert f"wrote {output}" in out and out.rstrip().endswith(f"plot: {plot}")
    assert output.is_file() and plot.read_bytes().startswith(PNG_SIGNATURE)
    assert "## Separation quality vs. inference depth" in output.read_text()


def test_errors_name_the_problem(two_sets, tmp_path):
    with pytest.raises(ValueError, match="no summary.json in .*empty"):
        (tmp_path / "empty").mkdir()
        results.make_results([two_sets[0], tmp_path / "empty"], tmp_path / "R.md")
    with pytest.raises(ValueError, match="decode dir not found: .*absent"):
        results.load_summary(tmp_path / "absent")
    (two_sets[0] / "summary.json").write_text('{"test_set": "test"}')
    with pytest.raises(ValueError, match="is not a scoring summary"):
        results.load_summary(two_sets[0])
    with pytest.raises(SystemExit) as exit_info:
        make_results_cli.main(["--decode_dirs", str(tmp_path / "absent"), "--output", str(tmp_path / "R.md")])
    assert str(exit_info.value.code) == f"error: decode dir not found: {tmp_path / 'absent'}"
    assert not (tmp_path / "R.md").exists()


def test_scoring_then_results_end_to_end(tmp_path):
    decode_dirs = []
    for name, seed in (("set_a", 0), ("set_b", 1)):
        data, signals = make_set(tmp_path / "data", name=name, count=2, seed=seed)
        decode = tmp_path / "decode" / name
        write_depth(decode, 1, {u: [m, m] for u, (m, s) in signals.items()})
        write_depth(decode, 2, {u: s for u, (m, s) in signals.items()})
        (decode / "timing.json").write_text(json.dumps({"audio_seconds": 2.0, "seconds": {"1": 0.5, "2": 1.0}}))
        scoring.score_test_set(data, decode, progress=False)
        decode_dirs.append(decode)
    table = results.make_results(decode_dirs, tmp_path / "RESULTS.md", tmp_path / "plot.png")
    rows = table_rows(table)
    assert [row.split(" | ")[:2] for row in rows] == [["| set_a", "1"], ["| set_a", "2"],
                                                      ["| set_b", "1"], ["| set_b", "2"]]
    assert rows[0].split(" | ")[3] == "0.00" and rows[0].endswith("| 0.25 |")  # mixture: SI-SNRi 0
    assert rows[1].split(" | ")[6] == "1.000" and rows[1].endswith("| 0.50 |")  # perfect: STOI 1


def test_auto_depth_row_with_the_average_depth_used(tmp_path):
    data, signals = make_set(tmp_path / "data", name="set_a", count=2)
    decode = tmp_path / "decode" / "set_a"
    write_depth(decode, 1, {u: [m, m] for u, (m, s) in signals.items()})
    write_depth(decode, "_auto", {u: s for u, (m, s) in signals.items()})  # -> reps_auto/
    (decode / "reps_auto/utt2depth").write_text("".join(f"{u} {d}\n" for u, d in zip(signals, (2, 5))))
    (decode / "timing.json").write_text(json.dumps({"audio_seconds": 2.0, "seconds": {"1": 0.5, "auto": 1.5}}))
    summary = scoring.score_test_set(data, decode, progress=False)
    assert list(summary["depths"]) == ["1", "auto"] and summary["depths"]["auto"]["mean_depth"] == 3.5
    assert (decode / "reps_auto/scores.tsv").is_file()
    table = results.make_results([decode], tmp_path / "RESULTS.md", tmp_path / "plot.png")
    rows = table_rows(table)
    assert [row.split(" | ")[1] for row in rows] == ["1", "auto (3.50)"]
    assert rows[1].split(" | ")[6] == "1.000" and rows[1].endswith("| 0.75 |")
    figure = results.plot_figure([results.load_summary(decode)])
    by_depth, by_rtf = figure.axes
    assert list(by_depth.get_lines()[0].get_xdata()) == [1]  # the line holds the fixed depths only
    stars = [c.get_offsets()[0].tolist() for axes in (by_depth, by_rtf) for c in axes.collections]
    assert [x for x, _ in stars] == [3.5, 0.75]


def test_auto_depth_needs_its_depth_list(tmp_path):
    data, signals = make_set(tmp_path / "data", count=1)
    decode = tmp_path / "decode"
    write_depth(decode, "_auto", {u: s for u, (m, s) in signals.items()})
    (decode / "timing.json").write_text(json.dumps({"audio_seconds": 1.0, "seconds": {"auto": 0.5}}))
    with pytest.raises(ValueError, match="missing scp file: .*reps_auto/utt2depth"):
        scoring.score_test_set(data, decode, progress=False)


def test_grid_over_n_sep_has_a_row_per_pair_and_a_frontier(tmp_path):
    """Decode dirs named sep<n> (stage 5's --inference_sep_reps) give an N_sep column and a frontier."""
    decode = tmp_path / "decode" / "test"
    grid = [write_summary(decode / "sep2", "test", {1: (9.0, 0.30), 2: (10.0, 0.40), 3: (10.5, 0.50)}),
            write_summary(decode / "sep1", "test", {1: (8.0, 0.10), 2: (9.5, 0.20), 3: (9.4, 0.30)})]
    plot = tmp_path / "grid.png"
    table = results.make_results(grid, tmp_path / "RESULTS.md", plot)
    assert "| dataset | N_sep | depth | SI-SNR |" in table
    pairs = [tuple(row.split(" | ")[1:3]) for row in table_rows(table)]
    assert pairs == [("1", "1"), ("1", "2"), ("1", "3"), ("2", "1"), ("2", "2"), ("2", "3")]
    assert plot.read_bytes().startswith(PNG_SIGNATURE)
    figure = results.plot_figure([results.load_summary(d) for d in grid])
    by_depth, by_rtf = figure.axes
    assert [line.get_label() for line in by_depth.get_lines()] == ["test, N_sep 2", "test, N_sep 1"]
    frontier_line, = by_rtf.get_lines()
    # 1/3 (9.4 dB at 0.30) and 2/1 (9.0 dB at 0.30) are beaten by the cheaper 1/2 (9.5 dB at 0.20)
    np.testing.assert_allclose(frontier_line.get_xdata(), [0.10, 0.20, 0.40, 0.50])
    np.testing.assert_allclose(frontier_line.get_ydata(), [8.0, 9.5, 10.0, 10.5])
    labels = {text.get_text() for text in by_rtf.texts}
    assert labels == {"1/1", "1/2", "2/2", "2/3"}


def test_frontier_keeps_the_cheapest_pair_for_each_quality():
    points = [(0.3, 9.0, "a"), (0.1, 8.0, "b"), (0.2, 9.0, "c"), (0.2, 8.5, "d"), (0.4, math.nan, "e"),
              (math.nan, 12.0, "f"), (0.5, 9.5, "g")]
    assert [p[2] for p in results.frontier(points)] == ["b", "c", "g"]
