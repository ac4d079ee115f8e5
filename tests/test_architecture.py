"""The layers hold and nothing imports in a circle: the import graph of the package, checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _graph():  # noqa: ANN202 - a grimp graph
    import grimp

    return grimp.build_graph("optical_ir")


def test_no_import_cycles_between_modules() -> None:
    import networkx as nx

    graph = _graph()
    g = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            # importing a.b.c runs a/__init__ and a/b/__init__ first: it imports those packages too
            parts = imported.split(".")
            for target in (".".join(parts[:i]) for i in range(2, len(parts) + 1)):
                if module != target and not module.startswith(target + "."):  # a package may import its children
                    g.add_edge(module, target)
    cycles = list(nx.simple_cycles(g, length_bound=6))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_the_layer_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint) if lint.is_file() else "lint-imports"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_verb_is_a_command_line_module_and_the_flag_helpers_know_no_domain() -> None:
    graph = _graph()
    verbs = ("bitext", "distill", "evaluate", "export_qrels", "fuse", "index", "perturb", "reproduce", "run_pyserini",
             "search", "translate", "tune")
    for verb in verbs:
        assert (ROOT / "optical_ir" / f"{verb}.py").is_file()
        importers = graph.find_modules_that_directly_import(f"optical_ir.{verb}")
        assert not importers, f"optical_ir.{verb} is a command line; {importers} import it"
    assert graph.find_modules_directly_imported_by("optical_ir.cli") <= {"optical_ir.errors", "optical_ir.mirror"}
