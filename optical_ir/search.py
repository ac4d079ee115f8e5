"""Search a collection and write a TREC run: BM25, PSQ, dense retrieval, or reranking.

Command line (flags as Pyserini's own)::

    # BM25 (Anserini)
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test \\
        --output runs/bm25.sw.trec [--index DIR] [--topics FILE.tsv] [--hits 1000] \\
        [--threads 2] [--batch-size 256] [--k1 0.9] [--b 0.4]
    # dense retrieval (Pyserini FaissSearcher): query encoder, index of the doc encoder
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --output run.trec \\
        --encoder multilingual-e5-small [--doc-encoder TEACHER] [--index FAISS_DIR] [--device cuda] \\
        [--index-type flat|hnsw|ivfpq] [--ef-search 512] [--nprobe 32]
    # BM25 on translated topics (python -m optical_ir.translate), or PSQ with the eflomal table
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --topics topics.sw-en.table.tsv \\
        --output run.trec
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --psq [--sources all] --output run.trec
    # rerank the BM25 top 100 (or --first-stage RUN) with the dense encoder
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --output run.trec \\
        --encoder multilingual-e5-small --rerank [--rerank-depth 100] [--first-stage RUN]
    # late interaction (MaxSim of query tokens against a token index of the doc encoder),
    # over the whole index or (--rerank) over a first stage; optionally plus the pooled score
    python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --output run.trec \
        --encoder STUDENT --doc-encoder multilingual-e5-small --late-interaction \
        [--token-candidates 64] [--pooled-weight 0] [--rerank --first-stage RUN]

Queries come from the dataset, or from ``--topics`` (a ``qid<TAB>text`` file, an
ir_datasets id or a Pyserini topic set). Without ``--index`` the index is the one
``python -m optical_ir.index`` builds for the dataset's documents (built on first use):
Lucene for BM25, FAISS of ``--doc-encoder`` (default: the ``--encoder`` itself) for dense
search and reranking, its token index (``python -m optical_ir.index --tokens``) for late
interaction. An index made by another model than the query encoder is refused
unless ``--doc-encoder`` names that model. A query left with no words is reported and
gets no results (it scores 0 in evaluation). The searchers are those of
:mod:`optical_ir.retrieval`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from . import cli


def _searcher(args: argparse.Namespace, topics: Sequence[tuple[str, str]]) -> Any:
    """The searcher the flags describe."""
    from .indexes import faiss_index, lucene_index
    from .topics import query_language

    if args.psq:
        from .retrieval import PsqSearcher
        from .translation.table import TableConfig, learn_table

        config = cli.config_from_args(TableConfig, args, lang=query_language(args.dataset, args.language))
        table = learn_table(config, args.table, args.relearn)
        return PsqSearcher(lucene_index(args.dataset, args.index, args.threads), table, args.k1, args.b)
    if args.encoder:
        from .encoders import load_encoder
        from .indexes import token_index
        from .retrieval import Bm25Searcher, FaissDenseSearcher, LateInteractionSearcher, RerankSearcher

        encoder = load_encoder(args.encoder, device=args.device, **cli.encoder_config_flags(args))  # type: ignore[arg-type]
        doc_encoder = load_encoder(args.doc_encoder, device=args.device) if args.doc_encoder else None
        batch = args.batch_size or 64
        first: Any = None
        if args.rerank and args.first_stage:
            from .trec import read_run

            first = read_run(args.first_stage)
        elif args.rerank:
            first = Bm25Searcher(lucene_index(args.dataset, None, args.threads),
                                 query_language(args.dataset, args.language, args.topics), args.k1, args.b,
                                 args.threads)
        if args.late_interaction:
            tokens = token_index(args.dataset, doc_encoder or encoder, args.index, batch)
            return LateInteractionSearcher.from_index(tokens, encoder, doc_encoder, first_stage=first,
                                                      depth=args.rerank_depth, token_candidates=args.token_candidates,
                                                      pooled_weight=args.pooled_weight, batch_size=batch)
        from .indexes.ann import IndexSpec

        index = faiss_index(args.dataset, doc_encoder or encoder, args.index, batch, IndexSpec(args.index_type))
        if not args.rerank:
            return FaissDenseSearcher(index, encoder, doc_encoder, batch, args.threads, args.ef_search, args.nprobe)
        return RerankSearcher.from_index(first, index, encoder, doc_encoder, args.rerank_depth, batch)
    from .retrieval import Bm25Searcher

    return Bm25Searcher(lucene_index(args.dataset, args.index, args.threads),
                        query_language(args.dataset, args.language, args.topics), args.k1, args.b, args.threads,
                        args.batch_size or 256, args.strip_accents)


def main(argv: Sequence[str] | None = None) -> int:
    from .indexes.ann import INDEX_TYPES
    from .translation.table import TableConfig

    parser = cli.parser("search", __doc__)
    cli.add_topic_flags(parser)
    parser.add_argument("--index", help="Lucene or FAISS index directory (default: the dataset's, built if missing)")
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
    table = parser.add_argument_group("lexical translation table (eflomal, learned from bitext; with --psq)")
    cli.add_config_flags(table, TableConfig, exclude=("lang",))
    table.add_argument("--table", help="directory of the table (default: under $OPTICAL_IR_CACHE/translation/tables)")
    table.add_argument("--relearn", action="store_true", help="learn the table again even if it is saved")
    dense_group = parser.add_argument_group("dense retrieval and reranking")
    dense_group.add_argument("--encoder", help="query encoder: embedded name, model directory or Hugging Face id")
    dense_group.add_argument("--doc-encoder", help="model whose passage vectors the FAISS index holds (default: "
                             "--encoder); e.g. the teacher of a distilled student")
    dense_group.add_argument("--rerank", action="store_true", help="rerank a first stage instead of searching FAISS")
    dense_group.add_argument("--rerank-depth", type=int, default=100, help="first-stage documents reranked")
    dense_group.add_argument("--first-stage", help="TREC run to rerank (default: BM25 to --rerank-depth)")
    dense_group.add_argument("--late-interaction", action="store_true",
                             help="score by MaxSim of the query's token vectors against the passages' (a token "
                             "index of --doc-encoder), instead of pooled vectors")
    dense_group.add_argument("--token-candidates", type=int, default=64,
                             help="late interaction without --rerank: nearest passage tokens per query token whose "
                             "passages are scored")
    dense_group.add_argument("--pooled-weight", type=float, default=0.0,
                             help="late interaction: weight of the pooled inner product added to MaxSim")
    dense_group.add_argument("--index-type", choices=INDEX_TYPES, default="flat",
                             help="without --index: the dataset's default index of this type (built with its "
                             "default parameters if missing; python -m optical_ir.index --index-type sets others)")
    dense_group.add_argument("--ef-search", type=int, help="hnsw index: candidates kept a query (default: the index's)")
    dense_group.add_argument("--nprobe", type=int, help="ivfpq index: cells scanned a query (default: the index's)")
    cli.add_encoder_flags(parser)
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    if args.hits < 1 or (args.batch_size is not None and args.batch_size < 1) or args.threads < 1:
        parser.error("--hits, --batch-size and --threads must be positive")
    if (args.rerank or args.doc_encoder or args.first_stage or args.late_interaction) and not args.encoder:
        parser.error("--rerank, --doc-encoder, --first-stage and --late-interaction need --encoder")
    if args.first_stage and not args.rerank:
        parser.error("--first-stage is the run --rerank rescores; add --rerank")
    if args.token_candidates < 1 or args.rerank_depth < 1:
        parser.error("--token-candidates and --rerank-depth must be positive")
    if args.psq and args.encoder:
        parser.error("--psq is a BM25 query form; it does not combine with --encoder")
    from .errors import check_device
    from .files import check_writable
    from .retrieval import write_result
    from .topics import load_topics

    check_writable(args.output)
    check_device(args.device)
    topics = load_topics(args.dataset, args.topics)
    searcher = _searcher(args, topics)
    result = searcher.batch_search(topics, args.hits)
    write_result(result, topics, args.output, args.run_tag or searcher.tag)
    print(f"{len(result.run)} queries → {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "search"))
