"""Translate-then-search per bitext source: MAP of 1-best translation and PSQ for each source alone.

For every default language and every bitext source that covers it (NTREX train articles,
Tatoeba, MAFAND-MT, Multi30k) and all of them combined, an eflomal table is learned (into
the cache; eflomal is not seeded, so a relearned table differs slightly), the queries of
``optical-ir/ntrex/<xx>-en/test`` are translated and searched with BM25 (1-best) and PSQ.
Writes ``reproduce/translation-sources.csv``; the runs stay in the cache.

    python reproduce/translation_sources.py [--languages sw so] [--output reproduce/translation-sources.csv]
"""

from __future__ import annotations

import argparse
import csv
import time

from optical_ir.evaluation import evaluate
from optical_ir.files import atomic_write
from optical_ir.indexes import lucene_index
from optical_ir.mirror import cache_dir
from optical_ir.parallel import SOURCES, load_bitext
from optical_ir.retrieval import Bm25Searcher, PsqSearcher
from optical_ir.topics import load_topics
from optical_ir.translation import translate
from optical_ir.translation.table import TableConfig, TableTranslator, learn_table
from optical_ir.trec import write_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", nargs="+", default=["sw", "so", "ha", "yo", "de", "fr", "zh"])
    parser.add_argument("--output", default="reproduce/translation-sources.csv")
    args = parser.parse_args()
    work = cache_dir() / "translation-sources"
    index = lucene_index("optical-ir/ntrex/en-en/test")
    rows = []
    for lang in args.languages:
        dataset = f"optical-ir/ntrex/{lang}-en/test"
        topics = load_topics(dataset)
        covered = [s for s in SOURCES if load_bitext(lang, [s])]
        for sources in [(s,) for s in covered] + ([SOURCES] if len(covered) > 1 else []):
            name = "all" if sources == SOURCES else sources[0]
            start = time.time()
            table = learn_table(TableConfig(lang=lang, sources=sources), work / "tables" / f"{lang}.{name}")
            seconds = time.time() - start
            translated = str(work / "topics" / f"{lang}.{name}.tsv")
            english = translate(TableTranslator(table), topics, translated, dataset)
            qt = Bm25Searcher(index, "en").batch_search(english, 100)
            write_run(qt.run, work / "runs" / f"bm25-qt.{name}.{lang}.trec", "bm25-qt", [q for q, _ in topics])
            bm25_psq = PsqSearcher(index, table).batch_search(topics, 100)
            write_run(bm25_psq.run, work / "runs" / f"bm25-psq.{name}.{lang}.trec", "bm25-psq", [q for q, _ in topics])
            for condition in ("bm25-qt", "bm25-psq"):
                ev = evaluate(work / "runs" / f"{condition}.{name}.{lang}.trec", dataset)
                rows.append([lang, name, condition, table.n_pairs, len(table)]
                            + [round(ev.aggregates[m], 4) for m in ("AP", "nDCG@10", "R@100")] + [round(seconds, 1)])
                print(*rows[-1], flush=True)
    with atomic_write(args.output) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["lang", "sources", "condition", "pairs", "source_words", "AP", "nDCG@10", "R@100", "learn_s"])
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
