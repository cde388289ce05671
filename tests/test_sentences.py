from rag.language.sentences import split_sentences


def _texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentences_keep_exact_offsets_and_trim_whitespace() -> None:
    text = "  Film ini bagus.  Ia berperan sebagai Ok-ju!\nDan apa? Tidak ada.  "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Film ini bagus.", "Ia berperan sebagai Ok-ju!", "Dan apa?", "Tidak ada."]


def test_colon_and_bracketed_year_do_not_break_names() -> None:
    text = "Ia dikenal dalam drama seperti Money Heist: Korea dan Flower of Evil. Lalu The Call (2020). Selesai."
    assert _texts(text) == [
        "Ia dikenal dalam drama seperti Money Heist: Korea dan Flower of Evil.",
        "Lalu The Call (2020).",
        "Selesai.",
    ]


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = "Diperankan oleh Dr. Kim dan J. Lee di Jl. Sudirman. Kalimat kedua."
    assert _texts(text) == ["Diperankan oleh Dr. Kim dan J. Lee di Jl. Sudirman.", "Kalimat kedua."]


def test_lower_case_after_period_does_not_split() -> None:
    assert _texts("Versi 2.5 dirilis. kemudian diperbarui.") == ["Versi 2.5 dirilis. kemudian diperbarui."]


def test_range_limits_the_split() -> None:
    text = "Satu. Dua. Tiga."
    assert split_sentences(text, 6, 10) == [(6, 10)]


def test_long_sentences_are_cut_at_clause_boundaries() -> None:
    text = "Pulau itu luas, " * 30 + "dan indah. Pendek."
    spans = split_sentences(text, max_chars=100)
    assert all(e - s <= 100 for s, e in spans)
    assert [text[s:e] for s, e in spans][-1] == "Pendek."
    assert all(text[s:e].endswith((",", ".")) for s, e in spans)
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")


def test_sentences_of_other_scripts_end_where_their_writing_ends_them() -> None:
    # Capitals of any script, scripts without case, and full stops that need no space after them.
    assert _texts("Фильм вышел в 2023 году. Режиссёр Ли Чхун Хён. ещё не всё.") == [
        "Фильм вышел в 2023 году.",
        "Режиссёр Ли Чхун Хён. ещё не всё.",
    ]
    assert _texts("《芭蕾舞者》是2023年的韩国电影。导演是李忠炫！主演是全钟瑞。") == [
        "《芭蕾舞者》是2023年的韩国电影。",
        "导演是李忠炫！",
        "主演是全钟瑞。",
    ]
    assert _texts("यह एक फ़िल्म है। इसे ली चुंग-ह्यून ने बनाया।") == ["यह एक फ़िल्म है।", "इसे ली चुंग-ह्यून ने बनाया।"]
    assert _texts("هذا فيلم كوري. أخرجه لي تشونغ هيون؟ نعم.") == ["هذا فيلم كوري.", "أخرجه لي تشونغ هيون؟", "نعم."]
