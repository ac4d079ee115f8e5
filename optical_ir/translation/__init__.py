"""Query translation for translate-then-search baselines: one interface, several translators.

* :class:`~optical_ir.translation.nmt.NMTTranslator` — transformers seq2seq (Marian, NLLB-200, M2M100);
* :class:`~optical_ir.translation.table.TableTranslator` — 1-best word-by-word translation with a
  lexical table learned by eflomal from bitext (:func:`~optical_ir.translation.table.learn_table`);
* PSQ — the same table as weighted structured queries (:mod:`optical_ir.translation.psq`);
* :class:`~optical_ir.translation.base.PrecomputedTranslator` — a ``qid<TAB>english`` file.

``python -m optical_ir.translate`` writes translated topics with their provenance (:func:`translate`).
"""

from .base import PrecomputedTranslator, TextTranslator, TranslationCache, Translator, translate

__all__ = ["PrecomputedTranslator", "TextTranslator", "TranslationCache", "Translator", "translate"]
