# ruff: noqa: RUF001  (customers write in Russian; the patterns must match it)
"""The save-time guard: common patterns pass, exponential shapes are refused."""

from __future__ import annotations

import pytest

from router.rules.patterns import PatternError, compile_pattern

ALLOWED = [
    r"\border \d{6}\b", r"(refund|return)s?", r"[a-z]+@[a-z]+\.com", r"(?i)\w+ing\b",
    r"\p{Cyrillic}+", r"a{2,3}", r"(ab){2}", r"(?:x|y)+", r"[(+*)]+", r"\(a+\)+",
    r"(?<=order )\d+", r"(\d{3})-\d{4}", r"colou?r", r"[[:alpha:]]+",
]
REFUSED = [
    (r"(a+)+", "repeated group"), (r"(a*)*", "repeated group"), (r"(?:\w+\s?)+", "repeated"),
    (r"(a{1,})+", "repeated group"), (r"((a)+b)*", "repeated group"),
    (r"(x[ab]+){2,}", "repeated group"), (r"(a)\1", "backreferences"),
    (r"(?P<w>a)(?P=w)", "backreferences"), (r"(a)\g<1>", "backreferences"),
    ("", "non-empty"), ("(", "does not compile"), ("x" * 501, "at most 500"),
]


@pytest.mark.parametrize("pattern", ALLOWED)
def test_common_patterns_pass(pattern: str) -> None:
    assert compile_pattern(pattern) is not None


@pytest.mark.parametrize(("pattern", "says"), REFUSED)
def test_exponential_shapes_are_refused(pattern: str, says: str) -> None:
    with pytest.raises(PatternError, match=says):
        compile_pattern(pattern)


def test_matching_is_case_insensitive_and_unicode_aware() -> None:
    pattern = compile_pattern(r"\bвозврат\b")
    assert pattern.search("Оформите ВОЗВРАТ, пожалуйста")
    assert not pattern.search("невозвратный")
