r"""The configuration of a student: everything that determines it, typed, with its help text.

The command line of ``python -m optical_ir.distill`` is generated from these fields
(:func:`optical_ir.cli.add_config_flags`), the tune grid is validated against them, and the
configuration is saved in the student's ``optical_ir-distill.json`` and in every checkpoint,
so that a resumed or repeated run can be compared with the one that made the student.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..errors import ConfigError

MASSES = ("content", "pooled")
NORMS = ("l2", "linf")
PRECISIONS = ("fp32", "bf16")


def _methods() -> tuple[str, ...]:
    from .losses import LOSSES

    return tuple(LOSSES)


def _costs() -> tuple[str, ...]:
    from ..ot import METRICS

    return METRICS


def _adversaries() -> tuple[str, ...]:
    from .adversaries import ADVERSARIES

    return ("none", *ADVERSARIES)


def _policies() -> tuple[str, ...]:
    from .policies import POLICIES

    return tuple(POLICIES)


def _perturbations() -> tuple[str, ...]:
    from ..perturbation import kinds

    return tuple(kinds())


@dataclass(frozen=True)
class DistillConfig:
    r"""Everything that determines a student (saved in ``optical_ir-distill.json``).

    Each field's help text (``metadata["help"]``) is what ``--help`` shows; the longer notes:

    ``method``
        A loss of the registry :data:`optical_ir.distillation.losses.LOSSES`: ``optical``,
        ``mse``, ``token-uniform``, ``token-position``.
    ``mass``
        With ``pooled`` mass and the ``sqeuclidean`` cost, :math:`\langle T, C\rangle_F` bounds
        the squared distance of the mean-pooled vectors from above (Jensen:
        :math:`\bar x - \bar y = \sum_{ij} T_{ij}(x_i - y_j)`), so the token alignment also
        pulls the sentence vectors together.
    ``holdout``
        The NTREX dev articles (a fifth of the train articles) are kept out of the bitext;
        validation then measures MAP on ``optical-ir/ntrex/<xx>-en/dev``, sentences the
        student never saw, instead of in-sample on ``…/train``.
    ``projection``
        The student's token vectors pass through a learned linear map :math:`W h + b` into the
        teacher's dimension (trained with the top layers, saved with the student), so a student
        of any width learns under a fixed teacher.
    ``student_layers``
        The student keeps the embeddings and the first N transformer layers of ``student``
        (with ``epochs: 0``, that cut model untrained: the zero-shot student of that depth).
    ``train_layers``
        The embeddings and the layers below stay frozen; their output for each training
        sentence is computed once and cached, so a step runs only the top layers (about
        6× faster on a CPU for 2 of 12).
    ``precision``
        ``bf16`` runs the student's trained layers under ``torch.autocast`` in bfloat16 (the
        weights, the optimizer and the losses stay in float32); on this 2-core CPU with AMX
        a step of the top 9 layers is 1.12 × faster and the pooled vectors keep a cosine
        of 0.99999 with float32's (``benchmarks/precision.py``). On a CPU without bfloat16
        units (no AMX, no AVX-512 BF16), where torch's bfloat16 kernels are 22 × slower than
        the toolkit's step on a Zen 3, the same products run in float32 arithmetic on
        bfloat16-rounded operands (:mod:`optical_ir.distillation.bfloat16`).
        The teacher and the frozen trunk stay in float32.
    ``adversary``
        :mod:`optical_ir.distillation.adversaries`: the student's input vectors of the X
        sentence (the word embeddings, or with ``train_layers`` the cached output of the
        frozen layers) get a perturbation :math:`\delta` in the ball
        :math:`\lVert\delta_b\rVert \le \epsilon \lVert x_b\rVert` (per sentence, ``adv_norm``)
        that *increases* the loss, and the step minimises
        :math:`\mathcal{L}(x) + w\,\mathcal{L}(x + \delta)`.
    ``augment``
        Data-space noise (:mod:`optical_ir.distillation.augment`): each epoch, a share of the X
        sentences is replaced by a perturbed copy (kinds of :mod:`optical_ir.perturbation`),
        the teacher still reading the clean English.
    ``retrieval_weight`` / ``method: infonce``
        Supervised retrieval on the NTREX train articles (query: a sentence, positive: the
        passage holding it, negatives: the batch's other passages; the passages are the
        frozen teacher's vectors, so the English index stays the same).
    ``batching``
        :mod:`optical_ir.distillation.policies`: which side of each batch is in X and which in
        English (``hybrid``: monolingual with probability ``alpha``).
    """

    languages: tuple[str, ...] = field(default=(), metadata={
        "flag": "--language", "help": "source language(s) of the bitext; several give one student for all"})
    method: str = field(default="optical", metadata={"help": "distillation loss", "choices": _methods})
    teacher: str = field(default="multilingual-e5-small", metadata={
        "help": "frozen teacher encoder (embedded name, directory or Hugging Face id with a saved config)"})
    student: str = field(default="multilingual-e5-small", metadata={
        "help": "encoder the student starts from (it keeps its pooling and prefixes)"})
    sources: tuple[str, ...] = field(default=("ntrex",), metadata={
        "help": "bitext sources: ntrex (train articles), tatoeba, mafand, multi30k, or all"})
    bitext: tuple[str, ...] = field(default=(), metadata={
        "help": "your own bitext instead of --sources: one TSV of x<TAB>english lines, or two line-aligned files "
                "(X side first); for one --language, any valid ISO 639 code"})
    max_pairs: int | None = field(default=None, metadata={
        "help": "at most this many pairs per language (a seeded sample; default: all)"})
    epochs: int = field(default=3, metadata={"help": "passes over the bitext"})
    lr: float = field(default=5e-5, metadata={"help": "AdamW learning rate"})
    batch_size: int = field(default=16, metadata={"help": "sentence pairs per step"})
    max_length: int = field(default=64, metadata={"help": "tokens per sentence"})
    warmup: float = field(default=0.1, metadata={"help": "share of the steps for linear warm-up, then linear decay"})
    eps: float = field(default=0.05, metadata={"help": "Sinkhorn's entropic regularisation ε (in units of the cost)"})
    sinkhorn_iterations: int = field(default=50, metadata={"help": "Sinkhorn iterations"})
    cost: str = field(default="cosine", metadata={"help": "OT cost between token vectors", "choices": _costs})
    detach_plan: bool = field(default=True, metadata={
        "help": "hold the transport plan constant in the backward pass",
        "also": [("--backprop-through-sinkhorn", False)]})
    mass: str = field(default="content", metadata={
        "help": "tokens that carry transport mass: content tokens (no special, padding or prefix tokens), or those "
                "the pooling reads", "choices": MASSES})
    sentence_weight: float = field(default=0.0, metadata={
        "help": "weight of the sentence-level MSE term added to a token-level loss"})
    holdout: bool = field(default=False, metadata={
        "help": "hold the NTREX dev articles out of the bitext; validate on optical-ir/ntrex/<xx>-en/dev"})
    freeze_embeddings: bool = field(default=True, metadata={
        "help": "keep the word embeddings fixed (96M of multilingual-e5-small's 118M parameters)"})
    student_pooling: str | None = field(default=None, metadata={
        "help": "pooling of a --student that has no saved encoder config (a Hugging Face id): mean or cls"})
    student_query_prefix: str | None = field(default=None, metadata={
        "help": "query prefix of such a student (e5: 'query: ')"})
    student_passage_prefix: str | None = field(default=None, metadata={
        "help": "passage prefix of such a student (e5: 'passage: ')"})
    projection: bool = field(default=False, metadata={
        "help": "learn a linear map of the student's token vectors to the teacher's dimension (a student of "
                "another width, e.g. XLM-R base under a 384-d teacher)"})
    student_layers: int | None = field(default=None, metadata={
        "help": "keep only the first N transformer layers of --student: a smaller student cut from it (depth "
                "scaling; default: all)"})
    train_layers: int | None = field(default=None, metadata={
        "help": "train only the top N transformer layers over cached outputs of the frozen ones (default: all)"})
    precision: str = field(default="fp32", metadata={
        "help": "arithmetic of the student's trained layers: fp32, or bf16 (autocast; weights and losses stay "
                "float32)", "choices": PRECISIONS})
    adversary: str = field(default="none", metadata={
        "help": "adversarial training in embedding space: none, fgsm, pgd or freelb", "choices": _adversaries})
    adv_norm: str = field(default="l2", metadata={"help": "ball of the perturbation: l2 or linf", "choices": NORMS})
    adv_radius: float = field(default=0.05, metadata={
        "help": "ball radius ε, relative to each sentence's input norm (l2) or RMS (linf)"})
    adv_steps: int = field(default=1, metadata={"help": "ascent steps K (pgd, freelb)"})
    adv_step_size: float | None = field(default=None, metadata={
        "help": "ascent step size α, relative like the radius (default: 2.5 ε / K; fgsm: ε)"})
    adv_weight: float = field(default=1.0, metadata={"help": "weight w of the adversarial loss"})
    augment: tuple[str, ...] = field(default=(), metadata={
        "help": "perturbation kinds for data-space augmentation of the X sentences", "choices": _perturbations})
    augment_rate: float = field(default=0.2, metadata={"help": "perturbation rate of an augmented sentence"})
    augment_share: float = field(default=0.5, metadata={"help": "share of the X sentences perturbed each epoch"})
    retrieval_weight: float = field(default=0.0, metadata={
        "help": "weight of the InfoNCE retrieval term added to a distillation loss (NTREX train passages)"})
    temperature: float = field(default=0.05, metadata={"help": "InfoNCE temperature τ"})
    batching: str = field(default="cross-lingual", metadata={
        "help": "batching policy: cross-lingual (query in X), hybrid (monolingual with probability --alpha) or "
                "monolingual", "choices": _policies})
    alpha: float = field(default=0.5, metadata={"help": "hybrid batching: probability of a monolingual batch"})
    seed: int = field(default=13, metadata={"help": "seeds Python, torch and the batch order"})

    def __post_init__(self) -> None:
        from ..languages import canonical
        from ..parallel import resolve_sources

        if not self.languages and self.epochs != 0:
            raise ConfigError("give at least one language (only --epochs 0, which saves the start model, needs none)")
        object.__setattr__(self, "languages", tuple(canonical(x) for x in self.languages))
        if "en" in self.languages:
            raise ConfigError("the student learns from X–English bitext; 'en' is not a source language")
        object.__setattr__(self, "sources", resolve_sources(self.sources))
        for name, allowed in (("method", _methods()), ("mass", MASSES), ("cost", _costs()),
                              ("precision", PRECISIONS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"unknown {name} {getattr(self, name)!r}; choose one of {', '.join(allowed)}")
        for name in ("epochs", "batch_size", "max_length", "sinkhorn_iterations"):
            low = 0 if name == "epochs" else 1
            if not isinstance(getattr(self, name), int) or int(getattr(self, name)) < low:
                raise ConfigError(f"{name} must be a {'non-negative' if low == 0 else 'positive'} integer, not "
                                  f"{getattr(self, name)!r}")
        if self.student_pooling not in (None, "mean", "cls"):
            raise ConfigError(f"student_pooling must be mean or cls, not {self.student_pooling!r}")
        if self.student_layers is not None and self.student_layers < 1:
            raise ConfigError(f"student_layers must be positive (or None for all), not {self.student_layers}")
        if self.train_layers is not None and self.train_layers < 1:
            raise ConfigError(f"train_layers must be positive (or None for all), not {self.train_layers}")
        if self.max_pairs is not None and self.max_pairs < 1:
            raise ConfigError(f"max_pairs must be positive, not {self.max_pairs}")
        if not (self.lr > 0 and self.eps > 0 and 0 <= self.warmup < 1 and self.sentence_weight >= 0):
            raise ConfigError("need lr > 0, eps > 0, 0 ≤ warmup < 1 and sentence_weight ≥ 0")
        object.__setattr__(self, "augment", tuple(self.augment))
        for name, allowed in (("adversary", _adversaries()), ("adv_norm", NORMS), ("batching", _policies())):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"unknown {name} {getattr(self, name)!r}; choose one of {', '.join(allowed)}")
        bad = [k for k in self.augment if k not in _perturbations()]
        if bad:
            raise ConfigError(f"unknown augment kind(s) {bad}; choose from {', '.join(_perturbations())}")
        if not isinstance(self.adv_steps, int) or self.adv_steps < 1:
            raise ConfigError(f"adv_steps must be a positive integer, not {self.adv_steps!r}")
        if not (self.adv_radius > 0 and self.adv_weight >= 0 and (self.adv_step_size or 1) > 0):
            raise ConfigError("need adv_radius > 0, adv_weight ≥ 0 and adv_step_size > 0")
        if not (0 <= self.augment_rate <= 1 and 0 <= self.augment_share <= 1 and 0 <= self.alpha <= 1):
            raise ConfigError("augment_rate, augment_share and alpha are shares: give values in [0, 1]")
        if not (self.retrieval_weight >= 0 and self.temperature > 0):
            raise ConfigError("need retrieval_weight ≥ 0 and temperature > 0")
        object.__setattr__(self, "bitext", tuple(str(b) for b in self.bitext))
        if self.bitext and (len(self.bitext) > 2 or len(self.languages) != 1 or self.retrieves):
            raise ConfigError("--bitext takes one TSV or two line-aligned files, for exactly one --language, and "
                              "no retrieval term (that trains on NTREX passages)")
        if self.retrieves and self.sources != ("ntrex",):
            raise ConfigError(f"the retrieval term trains on NTREX train-article passages; sources must be ntrex, "
                              f"not {', '.join(self.sources)}")

    @property
    def retrieves(self) -> bool:
        """The step has the InfoNCE term (``method: infonce`` or ``retrieval_weight > 0``)."""
        return self.method == "infonce" or self.retrieval_weight > 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["languages"], d["sources"], d["augment"] = list(self.languages), list(self.sources), list(self.augment)
        d["bitext"] = list(self.bitext)
        # the settings of students trained before these options existed stay the same
        for name in ("bitext", "student_layers", "student_pooling", "student_query_prefix", "student_passage_prefix",
                     "projection"):
            if d[name] is None or d[name] in ((), [], False):
                del d[name]
        if d["precision"] == "fp32":
            del d["precision"]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "distillation settings") -> DistillConfig:
        """A config from a mapping; an unknown key is an error naming it and the known ones."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"{where}: unknown distillation settings {unknown}; known: {', '.join(known)}")
        data = dict(data)
        data["languages"] = tuple(data.get("languages", ()))
        data["sources"] = tuple(data.get("sources", ("ntrex",)))
        data["augment"] = tuple(data.get("augment", ()))
        data["bitext"] = tuple(data.get("bitext", ()))
        return cls(**data)

    def differences(self, other: DistillConfig) -> dict[str, tuple[Any, Any]]:
        """Field → (this value, the other's) for every field in which the two differ."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}
