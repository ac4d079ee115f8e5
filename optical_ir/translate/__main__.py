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
Translations are cached in ``$OPTICAL_IR_CACHE/translation/cache.sqlite``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from .. import cli

METHODS = ("table", "nmt", "precomputed")
PROVENANCE_SUFFIX = ".json"


def make_translator(method: str, lang: str, args: Any) -> Any:
    if method == "table":
        from .table import TableTranslator

        return TableTranslator(cli.table_from_args(args, lang))  # type: ignore[arg-type]
    if method == "nmt":
        if not args.model:
            raise ValueError("--method nmt needs --model (a Hugging Face id or a model directory)")
        from .nmt import NMTTranslator

        return NMTTranslator(args.model, lang, beam_size=args.beam_size, max_length=args.max_length,
                             device=args.device)
    if not args.translations:
        raise ValueError("--method precomputed needs --translations FILE (qid<TAB>english)")
    from .base import PrecomputedTranslator

    return PrecomputedTranslator(args.translations, lang)


def translate(translator: Any, topics: Sequence[tuple[str, str]], output: str, dataset: str | None = None,
              batch_size: int = 32) -> list[tuple[str, str]]:
    """Translate ``topics`` and write them, with ``output + '.json'`` holding the provenance."""
    from ..trec import atomic_write, write_topics
    from .base import TextTranslator

    if isinstance(translator, TextTranslator):
        english = translator.translate_topics(topics, batch_size=batch_size)
    else:
        english = translator.translate_topics(topics)
    write_topics(english, output)
    provenance = {**translator.provenance(), "target_lang": "en", "dataset": dataset, "queries": len(english)}
    with atomic_write(output + PROVENANCE_SUFFIX) as f:
        json.dump(provenance, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return english


def read_provenance(topics_path: str) -> dict[str, Any] | None:
    """The provenance saved beside a translated topics file, if any."""
    from pathlib import Path

    path = Path(topics_path + PROVENANCE_SUFFIX)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("translate", __doc__)
    parser.add_argument("--method", choices=METHODS, required=True, help="how to translate")
    parser.add_argument("--dataset", help="ir_datasets id whose queries are translated")
    parser.add_argument("--topics", help="topics file (qid<TAB>text) instead of the dataset's queries")
    parser.add_argument("--language", help="language of the topics (default: the dataset's query language)")
    parser.add_argument("--output", required=True, help="translated topics file to write (qid<TAB>english)")
    parser.add_argument("--batch-size", type=int, default=32, help="texts per translation batch")
    nmt = parser.add_argument_group("NMT")
    nmt.add_argument("--model", help="seq2seq model: Hugging Face id or directory (Marian, NLLB-200, M2M100)")
    nmt.add_argument("--beam-size", type=int, default=4)
    nmt.add_argument("--max-length", type=int, default=256, help="tokens per input and output")
    nmt.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--translations", help="precomputed translations, qid<TAB>english")
    cli.add_table_flags(parser)
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from ..search import load_topics, query_lang

    lang = query_lang(args.dataset, args.language)
    if lang == "en":
        raise ValueError("the topics are already English; nothing to translate")
    topics = load_topics(args.dataset, args.topics)
    translator = make_translator(args.method, lang, args)
    english = translate(translator, topics, args.output, args.dataset, args.batch_size)
    print(f"{len(english)} topics {lang}→en → {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "translate"))
