"""Stage 6b: gather the ``summary.json`` of several test sets into RESULTS.md and a plot.

Input: decode dirs, each with the ``summary.json`` that
``espnet2_tisdiss.stages.scoring`` writes (``{"test_set", "num_utts", "depths":
{"<k>": {"si_snr", "si_snri", "sdr", "sdri", "stoi", "rtf"}}}``, null for NaN;
depth "auto" also with "mean_depth").

Outputs (each written atomically):
  RESULTS.md in ESPnet's style: ``# RESULTS``, an ``## Environments`` list (date,
  python, torch and espnet versions, git commit of the cwd's repository if any),
  then a section headed by the title, the model info text and one markdown table
  row per (test set, depth): ``| dataset | depth | SI-SNR | SI-SNRi | SDR | SDRi |
  STOI | RTF |`` (dB values and RTF with 2 decimals, STOI with 3, "-" for NaN);
  the adaptive depth's row reads ``auto (<average depth used>)``.
  A PNG with two panels: SI-SNRi [dB] vs depth and SI-SNRi [dB] vs RTF, one line
  per test set, the adaptive depth as a star (at its average depth in the first
  panel), drawn with matplotlib's Agg canvas (no pyplot state touched).

A decode grid over N_sep (decode dirs named ``sep<n>``, see ``espnet2_tisdiss.depths``)
adds an ``N_sep`` column, one row per (test set, N_sep, depth); the plot then draws
one line per (test set, N_sep) against depth, and in the RTF panel every pair of the
grid with the quality-vs-RTF frontier of each test set (the pairs that no cheaper
pair beats), so the cheapest pair for a target quality can be read off.
"""

import io
import json
import math
import platform
import subprocess
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from espnet2_tisdiss.depths import AUTO, depth_order, folder_sep, parse_depth
from espnet2_tisdiss.fileio.atomic_io import write_atomic
from espnet2_tisdiss.stages.scoring import METRICS

COLUMNS = (("SI-SNR", "si_snr", 2), ("SI-SNRi", "si_snri", 2), ("SDR", "sdr", 2),
           ("SDRi", "sdri", 2), ("STOI", "stoi", 3), ("RTF", "rtf", 2))
DEFAULT_TITLE = "Separation quality vs. inference depth"


def load_summary(decode_dir: Union[str, Path]) -> Dict:
    """The summary of ``decode_dir`` with int depths (sorted, then "auto") and NaN for null."""
    decode_dir = Path(decode_dir)
    if not decode_dir.is_dir():
        raise ValueError(f"decode dir not found: {decode_dir}")
    path = decode_dir / "summary.json"
    if not path.is_file():
        raise ValueError(f"no summary.json in {decode_dir} (score it with score_separation first)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        depths = {}
        for key, values in raw["depths"].items():
            depth = parse_depth(key)
            names = METRICS + ("rtf",) + (("mean_depth",) if depth == AUTO else ())
            depths[depth] = {m: math.nan if values[m] is None else float(values[m]) for m in names}
        summary = {"test_set": str(raw["test_set"]), "num_utts": int(raw["num_utts"]),
                   "depths": dict(sorted(depths.items(), key=lambda item: depth_order(item[0]))),
                   "decode_dir": decode_dir, "n_sep": folder_sep(decode_dir.name)}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path} is not a scoring summary: {error!r}") from error
    if not summary["depths"]:
        raise ValueError(f"{path} lists no depth")
    return summary


def _number(value: float, decimals: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{decimals}f}"


def depth_label(depth, values: Dict[str, float]) -> str:
    """The depth column: ``k``, or ``auto (<average depth used>)``."""
    return f"{AUTO} ({_number(values['mean_depth'], 2)})" if depth == AUTO else str(depth)


def is_grid(summaries: Sequence[Dict]) -> bool:
    """Whether the summaries come from a decode grid over N_sep (``sep<n>`` decode dirs)."""
    return any(s.get("n_sep") is not None for s in summaries)


def format_table(summaries: Sequence[Dict]) -> str:
    """The markdown table, one row per (test set, depth), or (test set, N_sep, depth) for a grid."""
    grid = is_grid(summaries)
    lines = ["| dataset | " + ("N_sep | " if grid else "") + "depth | "
             + " | ".join(name for name, _, _ in COLUMNS) + " |",
             "|---|" + ("---:|" if grid else "") + "---:|" + "---:|" * len(COLUMNS)]
    if grid:
        summaries = sorted(summaries, key=lambda s: (s["test_set"], s["n_sep"] or 0))
    for summary in summaries:
        for depth, values in summary["depths"].items():
            cells = [summary["test_set"], *([str(summary["n_sep"] or "-")] if grid else []),
                     depth_label(depth, values)]
            cells += [_number(values[key], decimals) for _, key, decimals in COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> Optional[str]:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def environment_lines() -> List[str]:
    """ESPnet-style ``- key: `value``` lines describing this run."""
    lines = [f"- date: `{time.strftime('%a %b %d %H:%M:%S %Z %Y')}`",
             f"- python version: `{platform.python_version()}`",
             f"- espnet version: `espnet {_package('espnet')}`",
             f"- pytorch version: `pytorch {_package('torch')}`",
             f"- espnet2-tisdiss version: `{_package('espnet2-tisdiss')}`"]
    commit = _git("rev-parse", "HEAD")
    if commit:
        lines.append(f"- Git hash: `{commit}`")
        date = _git("log", "-1", "--format=%cd")
        if date:
            lines.append(f"  - Commit date: `{date}`")
    return lines


def format_results(summaries: Sequence[Dict], title: Optional[str] = None,
                   model_info: Optional[str] = None) -> str:
    """The whole RESULTS.md text."""
    parts = ["<!-- Generated by python -m espnet2_tisdiss.bin.make_results -->", "# RESULTS",
             "## Environments", *environment_lines(), "", f"## {title or DEFAULT_TITLE}"]
    if model_info:
        parts += ["", model_info.strip()]
    sets = ", ".join(f"{s['test_set']} ({s['num_utts']} utts)" for s in summaries)
    parts += ["", f"Test sets: {sets}. SI-SNR, SDR and their improvements in dB; "
              "RTF = compute seconds / audio seconds.", "", format_table(summaries)]
    return "\n".join(parts)


def plot_auto(by_depth, by_rtf, values: Dict[str, float], color) -> None:
    """The adaptive depth as a star: at its average depth, and at its RTF."""
    gain = values["si_snri"]
    for axes, x in ((by_depth, values["mean_depth"]), (by_rtf, values["rtf"])):
        if not math.isnan(x):
            axes.scatter([x], [gain], marker="*", s=120, color=color, zorder=3)
            axes.annotate(AUTO, (x, gain), textcoords="offset points", xytext=(4, -10), fontsize=8)


def frontier(points: Sequence[tuple]) -> List[tuple]:
    """The (rtf, gain, label) points that no cheaper-or-equal point beats, in order of RTF.

    Points with an unknown (NaN) RTF or gain are left out.
    """
    known = sorted((p for p in points if not (math.isnan(p[0]) or math.isnan(p[1]))),
                   key=lambda p: (p[0], -p[1]))
    kept: List[tuple] = []
    for point in known:
        if not kept or point[1] > kept[-1][1]:
            kept.append(point)
    return kept


def plot_grid_frontier(by_rtf, summaries: Sequence[Dict]) -> None:
    """Every (N_sep, depth) pair of each test set against RTF, with its frontier as a line."""
    for test_set in dict.fromkeys(s["test_set"] for s in summaries):
        points = [(values["rtf"], values["si_snri"], f"{s['n_sep']}/{depth}")
                  for s in summaries if s["test_set"] == test_set
                  for depth, values in s["depths"].items() if depth != AUTO]
        dots = by_rtf.scatter([p[0] for p in points], [p[1] for p in points], s=18, alpha=0.6)
        best = frontier(points)
        by_rtf.plot([p[0] for p in best], [p[1] for p in best], drawstyle="steps-post",
                    color=dots.get_facecolor()[0], label=f"{test_set} frontier")
        for rtf, gain, label in best:
            by_rtf.annotate(label, (rtf, gain), textcoords="offset points", xytext=(4, 4), fontsize=8)
    by_rtf.set(title="SI-SNRi vs. RTF: the grid, its frontier (N_sep/depth)")


def plot_figure(summaries: Sequence[Dict], title: Optional[str] = None) -> Figure:
    """Two panels: SI-SNRi vs depth and SI-SNRi vs RTF, one line per test set (per N_sep in a grid)."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    by_depth, by_rtf = figure.subplots(1, 2)
    grid = is_grid(summaries)
    names = [s["test_set"] for s in summaries]
    for summary in summaries:
        label = summary["test_set"]
        if grid:
            label += f", N_sep {summary['n_sep']}"
        elif names.count(label) > 1:
            label += f" ({Path(summary['decode_dir']).name})"
        depths = [k for k in summary["depths"] if k != AUTO]
        gains = [summary["depths"][k]["si_snri"] for k in depths]
        rtfs = [summary["depths"][k]["rtf"] for k in depths]
        line, = by_depth.plot(depths, gains, marker="o", label=label)
        if not grid:
            by_rtf.plot(rtfs, gains, marker="o", color=line.get_color(), label=label)
            for depth, rtf, gain in zip(depths, rtfs, gains):
                if not math.isnan(rtf):
                    by_rtf.annotate(str(depth), (rtf, gain), textcoords="offset points", xytext=(4, 4),
                                    fontsize=8)
        if AUTO in summary["depths"]:
            plot_auto(by_depth, by_rtf, summary["depths"][AUTO], line.get_color())
    all_depths = sorted({k for s in summaries for k in s["depths"] if k != AUTO})
    by_depth.set_xticks(all_depths)
    by_depth.set(xlabel="inference depth (reconstruction repetitions)", ylabel="SI-SNRi [dB]",
                 title="SI-SNRi vs. depth")
    by_rtf.set(xlabel="real-time factor [compute s / audio s]", ylabel="SI-SNRi [dB]",
               title="SI-SNRi vs. RTF (points labelled by depth)")
    if grid:
        plot_grid_frontier(by_rtf, summaries)
    if all(math.isnan(s["depths"][k]["rtf"]) for s in summaries for k in s["depths"]):
        by_rtf.text(0.5, 0.5, "no timing.json: RTF unknown", transform=by_rtf.transAxes, ha="center")
    for axes in (by_depth, by_rtf):
        axes.margins(0.08)
        axes.grid(True, alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    return figure


def make_results(decode_dirs: Sequence[Union[str, Path]], output: Union[str, Path],
                 plot: Optional[Union[str, Path]] = None, title: Optional[str] = None,
                 model_info: Optional[str] = None) -> str:
    """Write RESULTS.md (and the plot when ``plot`` is given); return the table."""
    if not decode_dirs:
        raise ValueError("no decode dir given")
    summaries = [load_summary(d) for d in decode_dirs]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, format_results(summaries, title, model_info))
    if plot is not None:
        plot = Path(plot)
        plot.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        plot_figure(summaries, title).savefig(buffer, format="png", dpi=120)
        write_atomic(plot, buffer.getvalue())
    return format_table(summaries)
