"""The package's layers import downward only.

Every module of ``espnet2_tisdiss`` is parsed with ``ast`` (nothing is
imported), and each ``import`` / ``from ... import`` statement, also those
inside functions, is checked against the rules:

- ``fileio/`` (low-level I/O) imports no other part of the project;
- ``inference/``, ``corpora/`` and ``fileio/`` do not import ``stages/``
  (the recipe stages sit above them);
- a CLI under ``bin/`` does not import another CLI; shared argument types live
  in ``espnet2_tisdiss.cli_types``.
"""

import ast
from pathlib import Path
from typing import Iterator, List, NamedTuple

import pytest

PACKAGE = "espnet2_tisdiss"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


class Import(NamedTuple):
    path: str    # relative to the repository, e.g. espnet2_tisdiss/fileio/pack.py
    line: int
    target: str  # dotted name, relative imports resolved


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> List[Import]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return list(imports_in(path.read_text(), package, str(path.relative_to(ROOT.parent))))


def imports_in(source: str, package: str, shown: str) -> Iterator[Import]:
    """Each name ``source`` (a module of ``package``) imports: for ``from a.b import c`` both ``a.b`` and
    ``a.b.c`` (c may be a module)."""
    for node in ast.walk(ast.parse(source, filename=shown)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(shown, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from .x / from ..x: counted from the module's package
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            yield Import(shown, node.lineno, base)
            for alias in node.names:
                yield Import(shown, node.lineno, f"{base}.{alias.name}")


def project_imports(folder: str) -> List[Import]:
    """The imports of project modules made by every module under ``espnet2_tisdiss/<folder>``."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        found += [imp for imp in imports_of(path) if is_under(imp.target, PACKAGE)]
    return found


def is_under(target: str, package: str) -> bool:
    return target == package or target.startswith(package + ".")


def report(bad: List[Import], rule: str) -> str:
    """The rule, then one line per offending statement (its first, i.e. shortest, target)."""
    first = {}
    for imp in bad:
        first.setdefault((imp.path, imp.line), imp.target)
    return rule + ":\n" + "\n".join(f"  {path}:{line} imports {target}" for (path, line), target in first.items())


@pytest.mark.parametrize("folder", ["fileio", "inference", "corpora"])
def test_lower_layers_do_not_import_the_stages(folder):
    bad = [imp for imp in project_imports(folder) if is_under(imp.target, f"{PACKAGE}.stages")]
    assert not bad, report(bad, f"{PACKAGE}/{folder}/ must not import {PACKAGE}.stages (it sits above)")


def test_fileio_imports_no_other_part_of_the_project():
    bad = [imp for imp in project_imports("fileio") if not is_under(imp.target, f"{PACKAGE}.fileio")]
    assert not bad, report(bad, f"{PACKAGE}/fileio/ is the lowest layer: it may import only itself, "
                                "the standard library and third-party packages")


def test_clis_do_not_import_each_other():
    bad = []
    for path in sorted((ROOT / "bin").glob("*.py")):
        own = module_name(path)
        bad += [imp for imp in imports_of(path)
                if is_under(imp.target, f"{PACKAGE}.bin") and imp.target != f"{PACKAGE}.bin"
                and not is_under(imp.target, own)]
    assert not bad, report(bad, f"a CLI in {PACKAGE}/bin/ must not import another one "
                                f"(shared argument types: {PACKAGE}.cli_types)")


def test_the_scan_sees_imports():
    """Guard against a scan that finds nothing and so passes everything."""
    decode = {imp.target for imp in imports_of(ROOT / "stages" / "decode.py")}
    assert f"{PACKAGE}.fileio.run_lock" in decode
    snippet = "def f():\n    from ..stages import decode\n    from . import audio\n"
    targets = {imp.target for imp in imports_in(snippet, f"{PACKAGE}.inference", "snippet")}
    assert {f"{PACKAGE}.stages.decode", f"{PACKAGE}.inference.audio"} <= targets
