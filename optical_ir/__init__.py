"""optical_ir: cross-lingual retrieval for low-resource languages on Pyserini/Anserini.

Importing the package is cheap and never touches the network; each verb is a module run as
``python -m optical_ir.<verb>`` (``index``, ``search``, ``evaluate``, ``bitext``,
``export_qrels``, ``reproduce``) whose ``main`` only parses flags and calls a library
function of the same module.
"""

__version__ = "0.1.0"
