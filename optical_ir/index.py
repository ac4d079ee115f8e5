"""Build the index of a collection's English documents: Lucene (BM25) or FAISS (dense).

Command line::

    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test [--index DIR] [--threads 2]
    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test --encoder multilingual-e5-small \\
        [--batch-size 64] [--device cpu]
    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test --encoder multilingual-e5-small --tokens
    # approximate: HNSW graph or IVF-PQ codes (FAISS factory strings underneath)
    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test-xl --encoder multilingual-e5-small \
        --index-type hnsw [--hnsw-m 32] [--ef-construction 200] [--ef-search 512]
    # sharded: one job per shard (any machine), then one merge
    python -m optical_ir.index --dataset D --encoder M --shard-id 0 --shard-num 4 --index shards/0
    python -m optical_ir.index --merge shards/0 shards/1 shards/2 shards/3 --index merged [--index-type hnsw]

Without ``--encoder`` this is a Lucene index for BM25; with it, a FAISS index of the
encoder's passage vectors in Pyserini's layout (:mod:`optical_ir.indexes`); with
``--tokens`` as well, a token index of every passage's content-token vectors, for late
interaction (``search --late-interaction``). ``--index-type hnsw|ivfpq`` makes an
approximate FAISS index instead of the exact flat one (:mod:`optical_ir.indexes.ann`; from
the cached flat index's vectors when there is one); Pyserini's ``FaissSearcher`` searches
either. ``--shard-id I --shard-num N`` encodes the ``I``-th of ``N`` contiguous parts of
the documents; ``--merge`` joins the ``N`` shard indexes into one index, of any type.
Without ``--index`` the index goes to
``$OPTICAL_IR_CACHE/indexes/{lucene,faiss,tokens}/<document set>`` (FAISS and tokens: one
sub-directory per encoder); datasets that share their documents share it.
Either kind is built in a temporary directory and renamed into place when complete, with
``optical_ir-index.json`` (the configuration that made it) inside; a rerun finds it and
skips the work unless ``--overwrite`` is given, which replaces an index (or an empty
directory) only, never another directory.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("index", __doc__)
    parser.add_argument("--dataset", help="ir_datasets id whose documents to index")
    parser.add_argument("--index", help="index directory (default: in the cache, keyed by document set)")
    parser.add_argument("--threads", type=int, default=2, help="indexing threads")
    parser.add_argument("--overwrite", action="store_true", help="rebuild even if the index exists")
    parser.add_argument("--encoder", help="dense index of this model's passage vectors (embedded name, "
                        "directory or Hugging Face id); without it, a Lucene index")
    parser.add_argument("--tokens", action="store_true",
                        help="with --encoder: a token index (every content token's vector) for late interaction")
    parser.add_argument("--batch-size", type=int, default=64, help="passages per forward pass (dense)")
    parser.add_argument("--shard-id", type=int, help="with --encoder: encode only this part of the documents (0-based)")
    parser.add_argument("--shard-num", type=int, help="with --shard-id: into how many parts the documents are cut")
    parser.add_argument("--merge", nargs="+", metavar="SHARD", help="join these shard indexes (all N of them) into "
                        "one index at --index, of --index-type")
    from .indexes.ann import IndexSpec

    cli.add_config_flags(parser.add_argument_group("FAISS index type (dense)"), IndexSpec)
    cli.add_encoder_flags(parser)
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from .errors import check_device

    check_device(args.device)
    if args.tokens and not args.encoder:
        parser.error("--tokens indexes an encoder's token vectors; give --encoder")
    if (args.shard_id is None) != (args.shard_num is None):
        parser.error("give --shard-id and --shard-num together")
    if args.tokens and (args.shard_id is not None or args.merge or args.index_type != "flat"):
        parser.error("--shard-id, --merge and --index-type are for dense (one vector a passage) indexes, not --tokens")
    spec = cli.config_from_args(IndexSpec, args)
    if args.merge:
        from .indexes.faiss import merge_shards

        if not args.index:
            parser.error("--merge writes the index given by --index")
        print(merge_shards(args.merge, args.index, spec, args.overwrite))
        return 0
    if not args.dataset:
        parser.error("give --dataset (or --merge SHARD ...)")
    if args.encoder:
        from .encoders import load_encoder
        from .indexes.faiss import build_faiss_index

        encoder = load_encoder(args.encoder, device=args.device, **cli.encoder_config_flags(args))  # type: ignore[arg-type]
        if args.tokens:
            from .indexes.tokens import build_token_index

            path = build_token_index(args.dataset, encoder, args.index, args.batch_size, args.overwrite)
        else:
            shard = None if args.shard_id is None else (args.shard_id, args.shard_num)
            path = build_faiss_index(args.dataset, encoder, args.index, args.batch_size, args.overwrite,
                                     spec=spec, shard=shard)
    else:
        if args.shard_id is not None or spec.index_type != "flat":
            parser.error("--shard-id and --index-type are for dense indexes: give --encoder")
        from .indexes.lucene import build_lucene_index

        path = build_lucene_index(args.dataset, args.index, args.threads, args.overwrite)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "index"))
