"""Regenerate the TREC runs and MAP tables of a reproduction config, and check them (Pyserini 2CR style).

The engine is :mod:`optical_ir.experiments.reproduction`; the config's schema, with the
list of placeholders a command may hold, is :mod:`optical_ir.experiments.schema`. A
config with an unknown key, an unknown placeholder, or an expected score that could never
be matched is refused before anything runs, with the file and key path.

Command line::

    python -m optical_ir.reproduce --config reproduce/conditions.yaml
        [--collections ntrex] [--conditions bm25] [--list-conditions] [--list-placeholders] [--docs]
        [--display-commands | --dry-run] [--check] [--force] [--runs-dir runs] [--device cpu]
        [--write-expected]

``--write-expected`` writes the measured scores of the planned conditions into the config
as their ``expected`` scores (:mod:`optical_ir.experiments.expected`): for a new condition
or language, after looking at them; ``--check`` guards them from then on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("reproduce", __doc__)
    parser.add_argument("--config", default="reproduce/conditions.yaml", help="reproduction config")
    parser.add_argument("--runs-dir", default="runs", help="where runs and tables go")
    parser.add_argument("--collections", nargs="+", help="only these collections of the config")
    parser.add_argument("--conditions", nargs="+", help="only these conditions")
    parser.add_argument("--list-conditions", action="store_true", help="list collections and conditions")
    parser.add_argument("--list-placeholders", action="store_true", help="list what {…} in a command stands for")
    parser.add_argument("--docs", action="store_true", help="regenerate the result tables included in README.md and "
                        "docs/*.md from the results files (with --check: fail if they are out of date)")
    parser.add_argument("--display-commands", "--dry-run", action="store_true", dest="dry_run",
                        help="print the commands this call would run (with --force, every one), run nothing; a run "
                        "that exists is listed as a comment")
    parser.add_argument("--check", action="store_true", help="compare with the expected scores")
    parser.add_argument("--force", action="store_true", help="remake runs that exist")
    parser.add_argument("--write-expected", action="store_true", help="write the measured scores of the planned "
                        "conditions into the config as their expected scores")
    parser.add_argument("--device", help="run the conditions that declare a device (device: cuda) on this one "
                        "instead, e.g. cpu (the GPU students then take hours)")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from .errors import ConfigError, check_device
    from .experiments.reproduction import (
        check,
        condition_languages,
        load_config,
        missing_requirements,
        plan,
        run_all,
        schedule,
    )
    from .experiments.schema import PLACEHOLDERS

    if args.docs:
        from .experiments.docs import pages, update

        changed = update(pages(Path.cwd()), Path.cwd(), check=args.check)
        for page in changed:
            print(f"{'out of date' if args.check else 'updated'}: {page}")
        return 1 if args.check and changed else 0
    if args.list_placeholders:
        for name, what in PLACEHOLDERS.items():
            print(f"{{{name}}}\t{what}")
        return 0
    config = load_config(args.config)
    if args.device:
        check_device(args.device)
    collections = config.model.collections
    for name in args.collections or []:
        if name not in collections:
            raise ConfigError(f"{args.config} has no collection {name!r}; it has {', '.join(collections)}")
    known = {c for coll in collections.values() for c in coll.conditions}
    for name in args.conditions or []:
        if name not in known:
            raise ConfigError(f"{args.config} has no condition {name!r}; it has {', '.join(sorted(known))}")
    if args.list_conditions:
        for cname, coll in collections.items():
            for name, cond in coll.conditions.items():
                print(f"{cname}\t{name}\t{','.join(condition_languages(coll, cond))}\t{cond.description}")
        return 0
    for cname, coll in collections.items():
        for name, cond in coll.conditions.items():
            missing = missing_requirements(cond)
            if missing and (not args.collections or cname in args.collections):
                print(f"[skip] {cname} {name}: set {', '.join(missing)} to run it", file=sys.stderr)
    runs_dir = Path(args.runs_dir)
    jobs = plan(config, runs_dir, args.collections, args.conditions, args.device)
    if args.dry_run:
        notes = {"skip": "# exists: ", "gpu": "# needs a GPU: "}
        for todo in schedule(config, runs_dir, jobs, args.force):
            for job, action in todo.actions:
                print(notes.get(action, "") + job.command)
        return 0
    start = time.time()
    rows = run_all(config, runs_dir, jobs, args.force)
    for collection in dict.fromkeys(j.collection for j in jobs):
        print(f"\n## {collection}\n")
        table = runs_dir / collection / "table.md"  # a collection with perturbations has its gap table
        print((table if table.is_file() else runs_dir / collection / "gap.md").read_text(encoding="utf-8"))
    print(f"finished in {time.time() - start:.0f}s", file=sys.stderr)
    if args.write_expected:
        from .experiments.expected import write_expected

        written = write_expected(args.config, rows, config.model.measures,
                                 dict.fromkeys((j.collection, j.condition) for j in jobs))
        for (cname, name), n in written.items():
            print(f"[expected] {cname} {name}: {n} languages written to {args.config}", file=sys.stderr)
    if args.check and not check(config, rows, args.collections, args.conditions):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "reproduce"))
