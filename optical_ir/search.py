"""Search a collection and write a TREC run: BM25, dense retrieval, or BM25 → dense rerank.

Command line (flags as Pyserini's own)::

    # BM25 (Anserini)
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test \\
        --output runs/bm25.sw.trec [--index DIR] [--topics FILE.tsv] [--hits 1000] \\
        [--threads 2] [--batch-size 256] [--k1 0.9] [--b 0.4]
    # dense retrieval (Pyserini FaissSearcher): query encoder, index of the doc encoder
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --output run.trec \\
        --encoder multilingual-e5-small [--doc-encoder TEACHER] [--index FAISS_DIR] [--device cuda]
    # BM25 on translated topics (python -m optical_ir.translate), or PSQ with the eflomal table
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --topics topics.sw-en.table.tsv \\
        --output run.trec
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --psq [--sources all] --output run.trec
    # rerank the BM25 top 100 (or --first-stage RUN) with the dense encoder
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --output run.trec \\
        --encoder multilingual-e5-small --rerank [--rerank-depth 100] [--first-stage RUN]

Queries come from the dataset (or ``--topics``, a ``qid<TAB>text`` file). Without
``--index`` the index is the one ``python -m optical_ir.index`` builds for the dataset's
documents (built on first use): Lucene for BM25, FAISS of ``--doc-encoder`` (default: the
``--encoder`` itself) for dense search and reranking. For BM25, queries in any language
are normalised by :mod:`optical_ir.analysis` and then analysed like the English index. A
query left with no words is reported and gets no results (it scores 0 in evaluation).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import cli
from .analysis import prepare_query
from .trec import Run, read_topics, write_run

if TYPE_CHECKING:
    from .encoders import DenseEncoder
    from .translate.table import TranslationTable


class SearchResult(NamedTuple):
    run: Run
    empty: list[str]
    """Query ids with no words left after normalisation (no results)."""


def load_topics(dataset_id: str | None = None, topics: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """``(qid, text)`` pairs from a topics TSV file, a Pyserini topic set name (e.g.
    ``ciral-v1.0-ha-test-a``; Anserini downloads it), else from the dataset's queries."""
    if topics:
        if Path(topics).is_file():
            return read_topics(topics)
        if os.sep in str(topics) or str(topics).endswith((".tsv", ".txt")):
            raise FileNotFoundError(f"no topics file {topics}")
        return pyserini_topics(str(topics))
    if not dataset_id:
        raise ValueError("give --dataset or --topics")
    from .collections import load

    return [(q.query_id, q.default_text()) for q in load(dataset_id).queries_iter()]


def pyserini_topics(name: str) -> list[tuple[str, str]]:
    """A Pyserini/Anserini topic set by name, as ``(qid, title)``; it may be downloaded."""
    from . import jvm

    jvm.start()
    from pyserini.search import get_topics

    try:
        topics = get_topics(name)
    except Exception as err:  # noqa: BLE001 - Anserini raises Java exceptions
        raise ValueError(f"{name!r} is neither a topics file nor a Pyserini topic set it could load (Anserini "
                         f"downloads most topic sets: is the network reachable?): {str(err).splitlines()[0]}") from None
    return [(str(qid), str(t.get("title", ""))) for qid, t in topics.items()]


def lucene_searcher(index_dir: str | os.PathLike[str], k1: float = 0.9, b: float = 0.4) -> Any:
    """Pyserini's ``LuceneSearcher`` over ``index_dir`` with BM25(k1, b), Java 21 started first."""
    from . import jvm

    jvm.start()
    from pyserini.search.lucene import LuceneSearcher

    if not any(Path(index_dir).glob("segments_*")):
        raise FileNotFoundError(f"{index_dir} is not a Lucene index; build one with python -m optical_ir.index")
    searcher = LuceneSearcher(str(index_dir))
    searcher.set_bm25(k1, b)
    return searcher


def bm25_search(topics: Sequence[tuple[str, str]], index_dir: str | os.PathLike[str], lang: str,
                hits: int = 1000, threads: int = 2, batch_size: int = 256,
                k1: float = 0.9, b: float = 0.4, strip_accents: bool = False) -> SearchResult:
    """BM25 over a Lucene index; ``lang`` is the language of the topics."""
    from tqdm.auto import tqdm

    searcher = lucene_searcher(index_dir, k1, b)
    prepared = [(qid, prepare_query(text, lang, strip_accents)) for qid, text in topics]
    empty = [qid for qid, q in prepared if not q]
    todo = [(qid, q) for qid, q in prepared if q]
    run: Run = {}
    with tqdm(total=len(todo), desc="BM25", unit="query") as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            results = searcher.batch_search([q for _, q in batch], [qid for qid, _ in batch],
                                            k=hits, threads=threads)
            for qid, _ in batch:
                run[qid] = {h.docid: float(h.score) for h in results.get(qid, [])}
            bar.update(len(batch))
    return SearchResult(run, empty)


def report_empty(empty: Sequence[str]) -> None:
    if empty:
        shown = ", ".join(empty[:10]) + (" …" if len(empty) > 10 else "")
        print(f"warning: {len(empty)} empty queries (no words after normalisation) get no "
              f"results: {shown}", file=sys.stderr)


def query_lang(dataset: str | None, language: str | None, topics: str | None = None) -> str:
    """The language of the queries: ``language``, else that of translated ``topics``
    (their provenance, written by ``python -m optical_ir.translate``), else the dataset's."""
    from .languages import canonical

    if language:
        return canonical(language)
    if topics:
        from .translate.__main__ import read_provenance

        provenance = read_provenance(topics)
        if provenance and provenance.get("target_lang"):
            return canonical(provenance["target_lang"])
    if dataset:
        from .collections import load, query_language

        return query_language(load(dataset))
    raise ValueError("give --language for a topics file without --dataset")


def bm25(dataset: str | None, *, index: str | None = None, topics: str | None = None, language: str | None = None,
         hits: int = 1000, threads: int = 2, batch_size: int = 256, k1: float = 0.9, b: float = 0.4,
         strip_accents: bool = False) -> tuple[SearchResult, list[tuple[str, str]]]:
    """BM25 for a dataset (or topics file): the result and the topics, nothing written."""
    lang = query_lang(dataset, language, topics)
    if index is None:
        if not dataset:
            raise ValueError("give --index, or --dataset to build or reuse its index")
        from .index import build_lucene_index

        index = str(build_lucene_index(dataset, threads=threads))
    topic_list = load_topics(dataset, topics)
    return bm25_search(topic_list, index, lang, hits, threads, batch_size, k1, b, strip_accents), topic_list


def search(dataset: str | None, output: str | os.PathLike[str], *, index: str | None = None,
           topics: str | None = None, language: str | None = None, hits: int = 1000,
           threads: int = 2, batch_size: int = 256, k1: float = 0.9, b: float = 0.4,
           run_tag: str = "bm25", strip_accents: bool = False) -> SearchResult:
    """Run BM25 for a dataset (or topics file) and write the TREC run to ``output``."""
    result, topic_list = bm25(dataset, index=index, topics=topics, language=language, hits=hits, threads=threads,
                              batch_size=batch_size, k1=k1, b=b, strip_accents=strip_accents)
    report_empty(result.empty)
    write_run(result.run, output, run_tag, [qid for qid, _ in topic_list])
    return result


def psq(dataset: str | None, output: str | os.PathLike[str], table: TranslationTable, *, index: str | None = None,
        topics: str | None = None, hits: int = 1000, threads: int = 2, k1: float = 0.9, b: float = 0.4,
        run_tag: str = "bm25-psq") -> SearchResult:
    """PSQ (:mod:`optical_ir.translate.psq`) with ``table`` over the dataset's Lucene index; write the run."""
    from .translate.psq import psq_search

    if index is None:
        if not dataset:
            raise ValueError("give --index, or --dataset to build or reuse its index")
        from .index import build_lucene_index

        index = str(build_lucene_index(dataset, threads=threads))
    topic_list = load_topics(dataset, topics)
    run, empty = psq_search(topic_list, index, table, hits, k1, b)
    report_empty(empty)
    write_run(run, output, run_tag, [qid for qid, _ in topic_list])
    return SearchResult(run, empty)


def dense(dataset: str | None, output: str | os.PathLike[str], encoder: DenseEncoder, *,
          doc_encoder: DenseEncoder | None = None, index: str | None = None, topics: str | None = None,
          hits: int = 1000, threads: int = 2, batch_size: int = 64, run_tag: str = "dense",
          rerank: bool = False, rerank_depth: int = 100, first_stage: str | None = None,
          k1: float = 0.9, b: float = 0.4) -> SearchResult:
    """Dense retrieval, or reranking of a first stage, with ``encoder``'s query vectors.

    The FAISS index holds ``doc_encoder``'s passage vectors (default: ``encoder``'s own);
    without ``index`` it is the dataset's default one, built if missing. For reranking the
    first stage is ``first_stage`` (a TREC run), else BM25 to ``rerank_depth``.
    """
    from .dense import build_faiss_index, dense_search
    from .dense import rerank as dense_rerank

    if index is None:
        if not dataset:
            raise ValueError("give --index, or --dataset to build or reuse its dense index")
        index = str(build_faiss_index(dataset, doc_encoder or encoder, batch_size=batch_size))
    topic_list = load_topics(dataset, topics)
    empty = [qid for qid, text in topic_list if not text.strip()]
    todo = [(qid, text) for qid, text in topic_list if text.strip()]
    if rerank:
        if first_stage:
            from .trec import read_run

            stage1 = read_run(first_stage)
        else:
            stage1 = bm25(dataset, topics=topics, hits=rerank_depth, threads=threads, k1=k1, b=b)[0].run
        run = dense_rerank(stage1, todo, index, encoder, rerank_depth, batch_size)
    else:
        run = dense_search(todo, index, encoder, hits, batch_size, threads)
    report_empty(empty)
    write_run(run, output, run_tag, [qid for qid, _ in topic_list])
    return SearchResult(run, empty)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("search", __doc__)
    parser.add_argument("--dataset", help="ir_datasets id (queries, and documents for the default index)")
    parser.add_argument("--index", help="Lucene or FAISS index directory (default: the dataset's, built if missing)")
    parser.add_argument("--topics", help="topics file, 'qid<TAB>text' per line (default: the dataset's queries)")
    parser.add_argument("--language", help="language of the topics (default: the dataset's query language)")
    parser.add_argument("--output", required=True, help="TREC run file to write")
    parser.add_argument("--hits", type=int, default=1000, help="results per query")
    parser.add_argument("--threads", type=int, default=2, help="search threads")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="queries per batch (default: 256 for BM25, 64 per forward pass for dense)")
    parser.add_argument("--k1", type=float, default=0.9, help="BM25 k1")
    parser.add_argument("--b", type=float, default=0.4, help="BM25 b")
    parser.add_argument("--run-tag", default=None, help="tag in the run's last column (default: bm25, dense, rerank)")
    parser.add_argument("--strip-accents", action="store_true", help="drop combining marks from queries (BM25)")
    parser.add_argument("--psq", action="store_true",
                        help="probabilistic structured queries with the eflomal table of the query language")
    cli.add_table_flags(parser)
    dense_group = parser.add_argument_group("dense retrieval and reranking")
    dense_group.add_argument("--encoder", help="query encoder: embedded name, model directory or Hugging Face id")
    dense_group.add_argument("--doc-encoder", help="model whose passage vectors the default FAISS index holds "
                             "(default: --encoder); e.g. the teacher of a distilled student")
    dense_group.add_argument("--rerank", action="store_true", help="rerank a first stage instead of searching FAISS")
    dense_group.add_argument("--rerank-depth", type=int, default=100, help="first-stage documents reranked")
    dense_group.add_argument("--first-stage", help="TREC run to rerank (default: BM25 to --rerank-depth)")
    cli.add_encoder_flags(parser)
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    if args.hits < 1 or (args.batch_size is not None and args.batch_size < 1) or args.threads < 1:
        parser.error("--hits, --batch-size and --threads must be positive")
    if (args.rerank or args.doc_encoder or args.first_stage) and not args.encoder:
        parser.error("--rerank, --doc-encoder and --first-stage need --encoder")
    if args.psq and args.encoder:
        parser.error("--psq is a BM25 query form; it does not combine with --encoder")
    if args.psq:
        table = cli.table_from_args(args, query_lang(args.dataset, args.language))
        result = psq(args.dataset, args.output, table, index=args.index, topics=args.topics,  # type: ignore[arg-type]
                     hits=args.hits, threads=args.threads, k1=args.k1, b=args.b, run_tag=args.run_tag or "bm25-psq")
    elif args.encoder:
        from .dense import encoder_from_args

        encoder = encoder_from_args(args.encoder, device=args.device, **cli.encoder_config_flags(args))  # type: ignore[arg-type]
        doc_encoder = encoder_from_args(args.doc_encoder, device=args.device) if args.doc_encoder else None
        result = dense(args.dataset, args.output, encoder, doc_encoder=doc_encoder, index=args.index,
                       topics=args.topics, hits=args.hits, threads=args.threads, batch_size=args.batch_size or 64,
                       run_tag=args.run_tag or ("rerank" if args.rerank else "dense"), rerank=args.rerank,
                       rerank_depth=args.rerank_depth, first_stage=args.first_stage, k1=args.k1, b=args.b)
    else:
        result = search(args.dataset, args.output, index=args.index, topics=args.topics,
                        language=args.language, hits=args.hits, threads=args.threads,
                        batch_size=args.batch_size or 256, k1=args.k1, b=args.b, run_tag=args.run_tag or "bm25",
                        strip_accents=args.strip_accents)
    print(f"{len(result.run)} queries → {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "search"))
