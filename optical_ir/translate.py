"""Translate topics into English and write them as ``qid<TAB>text`` with their provenance.

Command line::

    # 1-best translation with the eflomal table learned from bitext (learned once, then reused)
    python -m optical_ir.translate --method table --dataset optical-ir/ntrex/sw-en/test \\
        --output topics.sw-en.table.tsv [--sources ntrex mafand | all] [--min-prob 0.01] [--top-k 10]
    # NMT (Marian, NLLB-200, M2M100: a Hugging Face id or a directory)
    python -m optical_ir.translate --method nmt --model facebook/nllb-200-distilled-600M \\
        --dataset optical-ir/ntrex/sw-en/test --output topics.sw-en.nllb.tsv [--beam-size 4] [--device cuda]
    # translations someone else made (qid<TAB>english)
    python -m optical_ir.translate --method precomputed --translations mt.tsv \\
        --dataset optical-ir/ntrex/sw-en/test --output topics.sw-en.mt.tsv

The topics come from ``--dataset`` (its queries) or ``--topics FILE --language X``. The
output ``OUT`` is written atomically, with ``OUT.json`` beside it: the method, the model or
table (configuration and digest), the dataset and the query count. ``python -m
optical_ir.search --topics OUT`` then searches with the translations as English queries.
Translations are cached in ``$OPTICAL_IR_CACHE/translation/cache.sqlite``. The
translators are those of :mod:`optical_ir.translation`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import cli

METHODS = ("table", "nmt", "precomputed")


def make_translator(method: str, lang: str, args: argparse.Namespace) -> Any:
    """The translator the flags describe."""
    from .errors import ConfigError

    if method == "table":
        from .translation.table import TableConfig, TableTranslator, learn_table

        config = cli.config_from_args(TableConfig, args, lang=lang)
        return TableTranslator(learn_table(config, args.table, args.relearn))
    if method == "nmt":
        if not args.model:
            raise ConfigError("--method nmt needs --model (a Hugging Face id or a model directory)")
        from .translation.nmt import NMTTranslator

        return NMTTranslator(args.model, lang, beam_size=args.beam_size, max_length=args.max_length,
                             device=args.device)
    if not args.translations:
        raise ConfigError("--method precomputed needs --translations FILE (qid<TAB>english)")
    from .translation import PrecomputedTranslator

    return PrecomputedTranslator(args.translations, lang)


def main(argv: Sequence[str] | None = None) -> int:
    from .translation.table import TableConfig

    parser = cli.parser("translate", __doc__)
    parser.add_argument("--method", choices=METHODS, required=True, help="how to translate")
    cli.add_topic_flags(parser, "translated")
    parser.add_argument("--output", required=True, help="translated topics file to write (qid<TAB>english)")
    parser.add_argument("--batch-size", type=int, default=32, help="texts per translation batch")
    nmt = parser.add_argument_group("NMT")
    nmt.add_argument("--model", help="seq2seq model: Hugging Face id or directory (Marian, NLLB-200, M2M100)")
    nmt.add_argument("--beam-size", type=int, default=4)
    nmt.add_argument("--max-length", type=int, default=256, help="tokens per input and output")
    nmt.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--translations", help="precomputed translations, qid<TAB>english")
    table = parser.add_argument_group("lexical translation table (eflomal, learned from bitext)")
    cli.add_config_flags(table, TableConfig, exclude=("lang",))
    table.add_argument("--table", help="directory of the table (default: under $OPTICAL_IR_CACHE/translation/tables)")
    table.add_argument("--relearn", action="store_true", help="learn the table again even if it is saved")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from .errors import ConfigError, check_device
    from .files import check_writable
    from .topics import load_topics, query_language
    from .translation import translate

    check_writable(args.output)
    check_device(args.device)
    lang = query_language(args.dataset, args.language)
    if lang == "en":
        raise ConfigError("the topics are already English; nothing to translate")
    topics = load_topics(args.dataset, args.topics)
    translator = make_translator(args.method, lang, args)
    english = translate(translator, topics, args.output, args.dataset, args.batch_size)
    print(f"{len(english)} topics {lang}→en → {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "translate"))
