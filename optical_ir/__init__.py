"""optical_ir: cross-lingual retrieval for low-resource languages on Pyserini/Anserini.

Importing the package is cheap and never touches the network. The library is layered
(``docs/architecture.md``): foundations (``errors``, ``files``, ``trec``, ``languages``,
``mirror``, ``ntrex_files``, ``jvm``, ``analysis``, ``ot``, ``significance``), data (``collections``,
``parallel``, ``lexicon``, ``perturbation``, ``topics``, ``evaluation``), models and
indexes (``encoders``, ``indexes``), methods (``retrieval``, ``translation``, ``distillation``) and experiments
(``experiments``). Each command line is a module run as ``python -m optical_ir.<verb>``:
``index``, ``search``, ``evaluate``, ``fuse``, ``translate``, ``perturb``, ``bitext``,
``distill``, ``tune``, ``reproduce``, ``export_qrels`` and ``run_pyserini``; its ``main`` parses flags
and calls the layers below.
"""

__version__ = "0.1.0"
