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
    # Confidence penalty per unit of missing question terms. bench/abstention_sweep.py (TyDi id / en / ar / ru,
    # 200 questions each, the gold passages of the first 100 held out; declined / false abstention): with the
    # other-passages background, 0.1 gives 0.64 / 0.51 / 0.48 / 0.55 at 0 / 0 / 2.1 / 1.0%, 0.15 gives 0.72 /
    # 0.62 / 0.58 / 0.71 at 1.0 / 1.0 / 2.1 / 2.0%; 0.2 (with the names bar) raises the false abstention to
    # 3.0 / 1.0 / 4.1 / 4.0%.
    missing_terms_penalty: float = 0.15
    # The margin an answer needs rises by this much when the question's names or numbers (claims.names,
    # claims.numbers) are in neither the chosen sentence, its passage nor its document's title: a question about
    # a person the passage never names is rarely answered by it. Same sweep, bar raised by 0 / 0.02 / 0.04 / 0.07:
    # English declined 0.62 / 0.63 / 0.67 / 0.69, Russian 0.71 / 0.76 / 0.81 / 0.81, Indonesian false abstention
    # 1.0 / 1.0 / 1.0 / 4.0%, Russian 2.0 / 2.0 / 2.0 / 3.0%. Declining outright on a missing name: 12-15% false
    # abstention ("Islam", "Republik", "Helloween" for "Halloween", "USA" for "United States"). Arabic has no
    # capitals (numbers only): no effect.
    names_absent_penalty: float = 0.04
    # Below this cosine the best sentence is not about the question at all, however much it stands out:
    # off-topic questions reach at most 0.16 on the bundled article, answerable TyDi questions at least 0.24.
    min_similarity: float = 0.20
    # How many of the best other sentences form the background a candidate must stand out from.
    background_size: int = 10
    # The background leaves out the candidate's own passage (the retrieved chunk it is in): the answer's
    # neighbouring sentences resemble the question too and hid its margin. AUC of the margin (same sweep, id / en /
    # ar / ru / fi) 0.977 / 0.965 / 0.948 / 0.949 / 0.872 -> 0.984 / 0.971 / 0.954 / 0.951 / 0.880. Leaving out the
    # whole document did better on TyDi (0.991 / 0.982 / 0.958 / 0.957 / 0.885, a document is one passage there)
    # but left a one-document collection without a background: the article's four unanswerable dev questions were
    # answered. True restores the old background (every other sentence) for the sweep.
    own_passage_in_background: bool = False
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
    # Below this margin (how far the best sentence stands out from the sentences outside its passage, less the
    # missing-terms penalty; raised when names are absent) the composer abstains. Same sweep, 0.035 / 0.04 / 0.05:
    # English declined 0.64 / 0.67 / 0.69 (1.0% false abstention throughout), Arabic 0.56 / 0.58 / 0.62 at 2.1 /
    # 2.1 / 3.1%, Indonesian false abstention 1.0 / 1.0 / 4.0%. The dev set's four unanswerable questions stay
    # declined and its twenty answerable ones answered (tests/test_abstention.py).
    abstain_threshold: float = 0.04
    # The confidence reported is a logistic of (margin - bar) with this scale: 0.5 at the bar, 0.73 at this much
    # above it, 0.88 at twice: a scale without units that means the same whatever the bar.
    confidence_spread: float = 0.03


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
