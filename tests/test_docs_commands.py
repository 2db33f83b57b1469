"""Every command the docs show is accepted as written: its program exists and parses its options.

Reads the shell blocks of README.md, docs/*.md and the recipe READMEs. A ``tisdiss-*`` or
``python -m espnet2_tisdiss...`` command is handed to the program's own argument parser,
stopped right after parsing (an unknown option or a bad value fails here); a recipe's
``./run.sh`` command has every option checked against enh.sh's and local/data.sh's; files of
the repository it names (``conf/...``, ``espnet2_tisdiss/...``) must exist. What the commands
then do is run by the recipe, CLI and demo tests.
"""

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted(REPO.glob("egs2/*/enh1/README.md"))]
CONSOLE_SCRIPTS = {"tisdiss-separate": "espnet2_tisdiss.bin.separate", "tisdiss-train": "espnet2_tisdiss.bin.enh_train",
                   "tisdiss-infer": "espnet2_tisdiss.bin.enh_inference",
                   "tisdiss-convert-authors": "espnet2_tisdiss.bin.convert_authors_model",
                   "tisdiss-export": "espnet2_tisdiss.bin.export_onnx"}
SHELL_ONLY = ("cat", "echo", "cd", "make")


def shell_commands(doc: Path):
    """(doc, command line) of every command in the doc's ```sh blocks, continuations joined."""
    text = doc.read_text()
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" # ")[0].strip()
            if line and not line.startswith("#"):
                yield line


COMMANDS = [(doc, line) for doc in DOCS for line in shell_commands(doc)]


class Parsed(Exception):
    """Raised by the patched parser once the arguments parsed."""


def parse_only(module: str, argv, monkeypatch):
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        raise Parsed(original(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    with pytest.raises(Parsed):
        importlib.import_module(module).main(argv)


def shell_options(script: Path) -> set:
    """The --options a script parses with utils/parse_options.sh (its ``options="..."`` list), or
    those of the script it hands over to (``exec ../../<recipe>/enh1/local/data.sh ...``, from the
    recipe dir)."""
    handed_over = re.search(r"^exec (\S+/local/data\.sh) ", script.read_text(), flags=re.M)
    if handed_over:
        return shell_options(script.parent.parent / handed_over.group(1))
    match = re.search(r'^options="([^"]*)"', script.read_text().replace("\\\n", " "), flags=re.M)
    assert match, f"{script} has no options list"
    return set(match.group(1).split())


def option_pairs(argv) -> dict:
    """{name: value} of ``--name value`` pairs, as utils/parse_options.sh reads them."""
    assert len(argv) % 2 == 0 and all(a.startswith("--") for a in argv[::2]), f"not --name value pairs: {argv}"
    return {name[2:]: value for name, value in zip(argv[::2], argv[1::2])}


def check_recipe_command(recipe: Path, argv, monkeypatch):
    options = option_pairs(argv)
    unknown = set(options) - shell_options(REPO / "egs2/TEMPLATE/enh1/enh.sh")
    assert not unknown, f"options enh.sh does not have: {unknown}"
    if "local_data_opts" in options:
        inner = option_pairs(shlex.split(options["local_data_opts"]))
        unknown = set(inner) - shell_options(recipe / "local/data.sh")
        assert not unknown, f"options {recipe}/local/data.sh does not have: {unknown}"
    if "enh_config" in options:
        assert (recipe / options["enh_config"]).is_file()
    if "enh_args" in options:  # handed to ESPnet's training parser
        parse_only("espnet2_tisdiss.bin.enh_train", shlex.split(options["enh_args"]), monkeypatch)


@pytest.mark.parametrize("doc,line", COMMANDS, ids=[f"{d.relative_to(REPO)}:{i}" for i, (d, _) in enumerate(COMMANDS)])
def test_documented_command_is_accepted(doc, line, monkeypatch):
    if "..." in line or "<" in line:
        pytest.skip("a command with placeholders")
    words = shlex.split(line)
    for word in words:  # the repository's own files it names exist
        if re.match(r"(conf|espnet2_tisdiss|egs2)/", word):
            assert (REPO / word).exists(), f"{word} does not exist"
    program, argv = words[0], words[1:]
    if program in SHELL_ONLY:
        if program == "make":
            assert re.search(rf"^{argv[0]}:", (REPO / "Makefile").read_text(), flags=re.M)
        return
    if program in CONSOLE_SCRIPTS:
        parse_only(CONSOLE_SCRIPTS[program], argv, monkeypatch)
    elif program == "python" and argv[0] == "-m":
        parse_only(argv[1], argv[2:], monkeypatch)
    elif program in ("./run.sh", "./demo.sh"):
        recipe = doc.parent if doc.parent.name == "enh1" else None
        assert recipe is not None, f"{program} shown outside a recipe README"
        assert (recipe / program).is_file()
        check_recipe_command(recipe, argv, monkeypatch)
    else:
        pytest.fail(f"{doc.name}: no check for the command {line!r}")


def test_the_docs_show_commands():
    assert len(COMMANDS) > 40
    assert any(line.startswith("tisdiss-separate --model mini_2mix") for _, line in COMMANDS)
