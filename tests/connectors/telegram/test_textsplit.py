"""Long replies are cut at paragraph, then sentence, then word boundaries."""

from __future__ import annotations

from connectors.telegram.schemas import MESSAGE_TEXT_LIMIT
from connectors.telegram.textsplit import split_text, utf16_len


def test_short_text_is_one_part() -> None:
    assert split_text("  Thanks, we are on it.  ", 4096) == ["Thanks, we are on it."]


def test_empty_text_is_no_part() -> None:
    assert split_text(" \n ", 4096) == []


def test_cut_at_the_paragraph_break() -> None:
    text = "First paragraph, short.\n\nSecond paragraph is here."
    assert split_text(text, 40) == ["First paragraph, short.", "Second paragraph is here."]


def test_a_later_sentence_end_beats_an_early_paragraph_break() -> None:
    # The paragraph break sits in the first third of the window: too early to be worth it.
    text = "Hi.\n\nYour refund was approved today. It reaches your card in three days."
    assert split_text(text, 50) == ["Hi.\n\nYour refund was approved today.",
                                    "It reaches your card in three days."]


def test_cut_at_a_word_when_no_sentence_ends() -> None:
    assert split_text("alpha beta gamma delta epsilon", 12) == ["alpha beta", "gamma delta",
                                                                "epsilon"]


def test_one_endless_word_is_cut_hard() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_length_is_counted_in_utf16_units_like_telegram() -> None:
    parts = split_text("😀" * 7, 10)
    assert parts == ["😀" * 5, "😀" * 2]
    assert utf16_len(parts[0]) == 10


def test_a_long_support_answer_fits_telegram_and_loses_nothing() -> None:
    paragraph = ("We checked your order with the courier. " * 20).strip()
    text = "\n\n".join(f"{i}. {paragraph}" for i in range(12))
    parts = split_text(text, MESSAGE_TEXT_LIMIT)
    assert len(parts) == 3
    assert all(utf16_len(p) <= MESSAGE_TEXT_LIMIT for p in parts)
    assert [p[:3] for p in parts] == ["0. ", "5. ", "10."]
    assert "\n\n".join(parts) == text
