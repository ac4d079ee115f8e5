"""Build the index of a collection's English documents: Lucene (BM25) or FAISS (dense).

Command line::

    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test [--index DIR] [--threads 2]
    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test --encoder multilingual-e5-small \\
        [--batch-size 64] [--device cpu]
    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test --encoder multilingual-e5-small --tokens

Without ``--encoder`` this is a Lucene index for BM25; with it, a FAISS index of the
encoder's passage vectors in Pyserini's layout (:mod:`optical_ir.indexes`); with
``--tokens`` as well, a token index of every passage's content-token vectors, for late
interaction (``search --late-interaction``). Without ``--index`` the index goes to
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
    parser.add_argument("--dataset", required=True, help="ir_datasets id whose documents to index")
    parser.add_argument("--index", help="index directory (default: in the cache, keyed by document set)")
    parser.add_argument("--threads", type=int, default=2, help="indexing threads")
    parser.add_argument("--overwrite", action="store_true", help="rebuild even if the index exists")
    parser.add_argument("--encoder", help="dense index of this model's passage vectors (embedded name, "
                        "directory or Hugging Face id); without it, a Lucene index")
    parser.add_argument("--tokens", action="store_true",
                        help="with --encoder: a token index (every content token's vector) for late interaction")
    parser.add_argument("--batch-size", type=int, default=64, help="passages per forward pass (dense)")
    cli.add_encoder_flags(parser)
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from .errors import check_device

    check_device(args.device)
    if args.tokens and not args.encoder:
        parser.error("--tokens indexes an encoder's token vectors; give --encoder")
    if args.encoder:
        from .encoders import load_encoder
        from .indexes.faiss import build_faiss_index

        encoder = load_encoder(args.encoder, device=args.device, **cli.encoder_config_flags(args))  # type: ignore[arg-type]
        if args.tokens:
            from .indexes.tokens import build_token_index

            path = build_token_index(args.dataset, encoder, args.index, args.batch_size, args.overwrite)
        else:
            path = build_faiss_index(args.dataset, encoder, args.index, args.batch_size, args.overwrite)
    else:
        from .indexes.lucene import build_lucene_index

        path = build_lucene_index(args.dataset, args.index, args.threads, args.overwrite)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "index"))
