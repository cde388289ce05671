"""Answer-composition constants per embedding model, each with the measurement that chose it.

The similarity floors and margins live on one model's cosine scale: another model needs its own
values (bench/abstention_sweep.py and bench/composition_sweep.py measure them).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import DEFAULT_MODEL
from rag.model.backends import base_model


@dataclass(frozen=True)
class CompositionParams:
    """How sentences are scored, how many are kept, and when the composer abstains."""

    # Sentence score = similarity_weight * cosine(question, sentence) + (1 - it) * cosine(question, its chunk).
    # Chosen by bench/fusion_sweep.py (in git up to ad723f1); adding shared-term overlap lowered TyDi
    # accuracy (0.834 -> 0.782).
    similarity_weight: float = 0.6
    # A second sentence joins the answer when its score is within this margin of the best one and the two
    # fit in the answer budget (bench/composition_sweep.py, TyDi dev answer accuracy: margin 0.05 -> 0.841,
    # 0.08 -> 0.848, 0.1 -> 0.850; mean answer 192 / 203 / 208 chars).
    second_sentence_margin: float = 0.1
    # Confidence penalty per unit of missing question terms (bench/abstention_sweep.py on TyDi, threshold
    # 0.045: without it 0.4% false abstentions and 77% of held-out-gold questions answered; with 0.1,
    # 1.2% and 36%).
    missing_terms_penalty: float = 0.1
    # Below this cosine the best sentence is not about the question at all, however much it stands out:
    # off-topic questions reach at most 0.16 on the bundled article, answerable TyDi questions at least 0.24.
    min_similarity: float = 0.20
    # How many of the best other sentences form the background a candidate must stand out from.
    background_size: int = 10
    # Typical cosine of a question with an on-topic sentence that does not answer it (about 0.33 over the
    # article for the dev questions); pads the background of corpora with fewer than background_size
    # sentences, so a tiny corpus still needs a clearly matching sentence.
    background_floor: float = 0.30
    # A sentence's score is lowered by this much times its cosine with the mean of its document's other
    # sentences: lead sentences and summaries resemble every question about their document without
    # answering one (bench/composition_sweep.py, TyDi answer accuracy 0 -> 0.841, 0.1 -> 0.850, 0.2 -> 0.841).
    centrality_penalty: float = 0.1
    # Bonus for a sentence naming a time when the question asks when (TyDi dev, 133 of 565 questions ask
    # when: answer accuracy 0.834 without it, 0.850 with it).
    time_bonus: float = 0.05
    # Bonus for a sentence with an early copula ("X adalah ...") when the question asks what something is, or
    # who a named person is (77 of TyDi's 565 dev questions; bench/composition_sweep.py, TyDi answer accuracy
    # with the close-call budget below: bonus 0 / 0.03 / 0.06 / 0.1 / 0.15 -> 0.885 / 0.892 / 0.894 / 0.896 /
    # 0.894; without it 0.850 -> 0.858 / 0.862 / 0.864 at 0.03 / 0.06 / 0.1; the dev set has no such question).
    definition_bonus: float = 0.1
    # When the second sentence scores within this of the best, the ranking cannot tell which one answers, and
    # both are shown in up to close_call_chars (otherwise MAX_ANSWER_CHARS). bench/composition_sweep.py, TyDi
    # answer accuracy / mean answer chars (without the definition bonus): 300 throughout 0.850 / 208; margin
    # 0.01 -> 0.867 / 216, 0.02 -> 0.883 / 222, 0.03 -> 0.885 / 227, 0.05 -> 0.887 / 233 at 400 characters;
    # 0.03 at 350 / 450 -> 0.874 / 221, 0.896 / 232; raising the budget for every pair to 400 instead: 0.887 /
    # 246. In the close calls (pairs over 300 characters within 0.1) the lower-ranked sentence held the answer
    # about as often as the best one when their scores were within 0.02. The dev set is unchanged (0.90).
    close_call_margin: float = 0.03
    close_call_chars: int = 400
    # Below this confidence (how far the best sentence stands out) the composer abstains
    # (bench/abstention_sweep.py: 1.4% false abstention, 65% of held-out-gold questions declined on TyDi).
    abstain_threshold: float = 0.045


# Measured for EmbeddingGemma-300M; any other model starts from the same values until it is measured.
CALIBRATED: dict[str, CompositionParams] = {DEFAULT_MODEL: CompositionParams()}


def params_for(model: str, *, abstain_threshold: float | None = None) -> CompositionParams:
    """The model's calibrated constants, with the abstention threshold overridden when one is given.

    A backend-qualified name ("google/embeddinggemma-300m@torch-int8") gets its model's constants: the
    backends measured keep the cosine scale (bench/backends.py).
    """
    params = CALIBRATED.get(base_model(model), CompositionParams())
    if abstain_threshold is None:
        return params
    return CompositionParams(**{**params.__dict__, "abstain_threshold": abstain_threshold})
