"""Neural machine translation of queries with a transformers sequence-to-sequence model.

Supported families, told apart by the model's *tokenizer class* (never by its name):

* **Marian** (``MarianTokenizer``, e.g. Helsinki-NLP/opus-mt-mul-en): a model for one
  direction. If its tokenizer declares a source (or target) language, it must be the
  query language (English); a multi-target model gets the ``>>eng<<`` token when its
  vocabulary has one.
* **NLLB-200** (``NllbTokenizer``): ``src_lang`` is the tokenizer's own language token
  (FLORES-200 code) that names the query language (``sw`` → ``swh_Latn``, ``zh`` →
  ``zho_Hans``, found by :func:`optical_ir.languages.match`), and ``eng_Latn`` is forced as
  the first token.
* **M2M100** (``M2M100Tokenizer``): ``src_lang`` is the ISO code and ``__en__`` is forced.

A language the model does not cover is an error that says so. No NMT weights ship with
the toolkit; a user with a model runs, e.g.::

    python -m optical_ir.translate --method nmt --model facebook/nllb-200-distilled-600M \\
        --dataset optical-ir/ntrex/sw-en/test --output topics.sw-en.nllb.tsv --device cuda
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from .base import TextTranslator

FAMILIES = {"MarianTokenizer": "marian", "NllbTokenizer": "nllb", "NllbTokenizerFast": "nllb",
            "M2M100Tokenizer": "m2m100"}


class UnsupportedLanguagePair(ConfigError):
    """The model does not translate this language into English."""


class NMTTranslator(TextTranslator):
    """Batched beam-search translation into English with a seq2seq model (id or directory)."""

    def __init__(self, model: str | os.PathLike[str], source_lang: str, beam_size: int = 4,
                 max_length: int = 256, device: str = "cpu") -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        from ..languages import get_language

        self.model_name = str(model)
        self.language = get_language(source_lang)
        self.source_lang = self.language.code
        self.beam_size, self.max_length, self.device = beam_size, max_length, device
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_name)
        family = FAMILIES.get(type(self.tokenizer).__name__)
        if family is None:
            raise ConfigError(f"{self.model_name}: tokenizer {type(self.tokenizer).__name__} is not one of the "
                             f"supported NMT families ({', '.join(sorted(set(FAMILIES)))})")
        self.family = family
        self.prefix = ""
        self.generate_kwargs: dict[str, Any] = {}
        getattr(self, f"_setup_{family}")()
        self.model = AutoModelForSeq2SeqLM.from_pretrained(self.model_name).to(device).eval()

    def _in_vocab(self, token: str) -> bool:
        return token in self.tokenizer.get_vocab()

    def _setup_marian(self) -> None:
        from ..languages import canonical

        declared = getattr(self.tokenizer, "source_lang", None)
        if declared and declared not in ("mul",):
            try:
                ok = canonical(declared) == self.source_lang
            except ValueError:
                ok = False
            if not ok:
                raise UnsupportedLanguagePair(f"{self.model_name} translates from {declared!r}, not from "
                                              f"{self.source_lang} ({self.language.name})")
        target = getattr(self.tokenizer, "target_lang", None)
        if target and target not in ("en", "eng"):
            raise UnsupportedLanguagePair(f"{self.model_name} translates into {target!r}, not English")
        if self._in_vocab(">>eng<<"):
            self.prefix = ">>eng<< "

    def _nllb_code(self) -> str | None:
        """The tokenizer's FLORES-200 language token that names the source language."""
        import re

        from ..languages import UnknownLanguageError, canonical, match

        tokens = {}
        for token in self.tokenizer.get_vocab():
            if re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", token):
                try:
                    tokens.setdefault(canonical(token), token)
                except UnknownLanguageError:
                    continue
        found = match(self.source_lang, tokens)
        return tokens[found] if found else None

    def _setup_nllb(self) -> None:
        code = self._nllb_code()
        if code is None:
            raise UnsupportedLanguagePair(f"{self.model_name} has no language token (FLORES-200 code) for "
                                          f"{self.source_lang} ({self.language.name})")
        self.tokenizer.src_lang = code
        self.generate_kwargs["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids("eng_Latn")

    def _setup_m2m100(self) -> None:
        if f"__{self.source_lang}__" not in self.tokenizer.get_vocab():
            raise UnsupportedLanguagePair(f"{self.model_name} has no language token __{self.source_lang}__ "
                                          f"({self.language.name})")
        self.tokenizer.src_lang = self.source_lang
        self.generate_kwargs["forced_bos_token_id"] = self.tokenizer.get_lang_id("en")

    @property
    def key(self) -> str:
        return f"nmt:{self.model_name}:{self.source_lang}:beam{self.beam_size}:max{self.max_length}"

    def provenance(self) -> dict[str, Any]:
        return {"method": "nmt", "model": self.model_name, "family": self.family, "source_lang": self.source_lang,
                "beam_size": self.beam_size, "max_length": self.max_length}

    def translate_batch(self, texts: Sequence[str]) -> list[str]:
        import torch

        batch = self.tokenizer([self.prefix + t for t in texts], return_tensors="pt", padding=True,
                               truncation=True, max_length=self.max_length).to(self.device)
        with torch.inference_mode():
            out = self.model.generate(**batch, num_beams=self.beam_size, max_length=self.max_length,
                                      do_sample=False, **self.generate_kwargs)
        return [" ".join(t.split()) for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]
