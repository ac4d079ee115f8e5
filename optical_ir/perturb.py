"""Perturb the queries of a collection: typos, lost diacritics, word noise, code-switching,
romanisation — seeded and deterministic.

Command line::

    python -m optical_ir.perturb --dataset optical-ir/ntrex/yo-en/test --kind diacritics --rate 0.4 \\
        --output topics/yo.diacritics-0.4.tsv [--seed 13] [--sample 200] [--topics FILE]
    python -m optical_ir.perturb --dataset optical-ir/ntrex/sw-en/test --kind code-switch --rate 0.2 \\
        --table reproduce/tables/sw.ntrex --output topics/sw.code-switch-0.2.tsv
    python -m optical_ir.perturb --list

The output is a ``qid<TAB>text`` topics file that ``search --topics`` reads, with its
provenance beside it (``<output>.json``: kind, rate, seed, source dataset, language, how
many queries changed). The same query sets are ir_datasets ids, so every ``--dataset``
takes them: ``optical-ir/ntrex/yo-en/test/diacritics-0.4``, ``…/test/sample-200/typo-0.2``
(:mod:`optical_ir.collections.derived`). ``--rate`` is the share of a query's words that
are touched (:mod:`optical_ir.perturbation.base`). A kind that cannot apply to the queries
(romanising Latin script, stripping marks from a language without them, code-switching
without a lexicon) is an error, not a copy.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("perturb", __doc__)
    parser.add_argument("--list", action="store_true", help="list the perturbations and exit")
    parser.add_argument("--kind", help="perturbation (see --list)")
    parser.add_argument("--rate", type=float, help="share of each query's words touched, 0 to 1")
    parser.add_argument("--seed", type=int, default=13, help="seed (with the query id) of every random choice")
    parser.add_argument("--sample", type=int, help="perturb a seeded sample of this many queries (the "
                        "/sample-<n> query set, with the same seed)")
    parser.add_argument("--table", help="eflomal table directory for code-switching (default: the NTREX-bitext "
                        "table in the cache, learned if missing)")
    parser.add_argument("--output", help="topics file to write (qid<TAB>text)")
    cli.add_topic_flags(parser, "perturbed")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from .perturbation import get, kinds, perturb_topics, provenance

    if args.list:
        from .perturbation.base import REGISTRY

        for name in kinds():
            print(f"{name:14} {REGISTRY[name].description}")
        return 0
    if not (args.kind and args.rate is not None and args.output):
        parser.error("--kind, --rate and --output are required (or --list)")
    from .collections.derived import sample_id
    from .files import check_writable
    from .topics import load_topics, query_language, write_derived

    check_writable(args.output)
    lang = query_language(args.dataset, args.language, args.topics)
    source = sample_id(args.dataset, args.sample, args.seed) if args.sample else args.dataset
    topics = load_topics(source, args.topics)
    kind = get(args.kind, lang, args.table)
    perturbed = perturb_topics(topics, kind, args.rate, args.seed, lang)
    about = provenance(kind, args.rate, args.seed, lang, args.topics or source, topics, perturbed)
    write_derived(perturbed, about, args.output)
    print(f"{len(perturbed)} topics ({about['queries_changed']} changed) {args.kind} {args.rate} → {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "perturb"))
