import pytest

from rag.language.answer_types import asks_for_definition, asks_for_time, defines, mentions_time


@pytest.mark.parametrize(
    "question",
    ["Kapan film Ballerina dirilis?", "Tahun berapa Ballerina dirilis?", "When was Ballerina released?"],
)
def test_when_questions_ask_for_a_time(question: str) -> None:
    assert asks_for_time(question)


@pytest.mark.parametrize("question", ["Siapa sutradara film Ballerina?", "Who directed Ballerina?"])
def test_other_questions_do_not(question: str) -> None:
    assert not asks_for_time(question)


def test_years_months_and_centuries_are_times() -> None:
    assert mentions_time("Film ini dirilis pada tahun 2023.")
    assert mentions_time("Acara itu berlangsung pada 3 April.")
    assert mentions_time("Candi ini dibangun pada abad ke-9.")
    assert not mentions_time("Korban mencapai 20450 orang di 12 kota.")


def test_the_modal_verb_may_is_not_a_month() -> None:
    assert not mentions_time("The treatment may reduce the risk of infection.")
    assert mentions_time("The trial ended in May 2020.")


@pytest.mark.parametrize(
    "question",
    [
        "Apa itu Wangsa Plantagenet?",
        "Apakah yang dimaksud dengan korvet ?",
        "Apa pengertian frasa?",
        "What is a corvette?",
        "Siapakah Kubilai Khan?",
    ],
)
def test_what_is_questions_ask_for_a_definition(question: str) -> None:
    assert asks_for_definition(question)


@pytest.mark.parametrize(
    "question",
    ["Apakah fungsi utama pesawat Hercules?", "What is the name of the director?", "Siapakah pendiri Proton?"],
)
def test_other_what_questions_do_not(question: str) -> None:
    assert not asks_for_definition(question)


def test_an_early_copula_reads_as_a_definition() -> None:
    assert defines("Korvet merupakan jenis kapal perang yang lebih kecil dari fregat.")
    assert defines("A corvette is a small warship.")
    assert not defines("Istilah korvet sendiri diperkenalkan oleh Angkatan Laut Perancis pada abad ke-17.")
