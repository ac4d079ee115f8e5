"""Count (and write) the X–English bitext of languages, per source.

The pairs come from :mod:`optical_ir.parallel` (NTREX train articles, Tatoeba, MAFAND-MT,
Multi30k; never a sentence of a test article).

Command line::

    python -m optical_ir.bitext --language sw ha --sources all [--output pairs.tsv]
"""

from __future__ import annotations

from collections.abc import Sequence

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    from .parallel import DEFAULT_SOURCES, SOURCES

    parser = cli.parser("bitext", __doc__)
    parser.add_argument("--language", nargs="+", required=True, help="language code(s) X of X-English")
    parser.add_argument("--sources", nargs="+", default=list(DEFAULT_SOURCES),
                        help=f"bitext sources: {', '.join(SOURCES)}, or all")
    parser.add_argument("--output", help="write the pairs of a single language as 'X<TAB>English' TSV")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    if args.output and len(args.language) > 1:
        parser.error("--output takes a single --language")
    from .files import check_writable
    from .languages import get_language
    from .parallel import counts, load_bitext, resolve_sources, write_tsv

    if args.output:
        check_writable(args.output)
    sources = resolve_sources(args.sources)
    print("lang\t" + "\t".join(sources) + "\ttotal")
    for code in args.language:
        pairs = load_bitext(code, sources)
        c = counts(pairs)
        print(f"{get_language(code).code}\t" + "\t".join(str(c[s]) for s in sources) + f"\t{len(pairs)}")
        if args.output:
            write_tsv(pairs, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "bitext"))
