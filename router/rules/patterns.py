"""Regular expressions in rules: checked when the rule is saved, bounded when they run.

We use the `regex` package: its `\\b` and `\\w` know Cyrillic (RE2's are ASCII only, so a word
boundary next to a Russian word never matches there), and every search takes a timeout. Two
guards: a pattern that nests one unbounded repeat inside another (`(a+)+`, `(\\w*\\s?)*`) or uses a
backreference — the shapes that backtrack exponentially — is refused at save time with a 422,
and any search still running after `SEARCH_TIMEOUT_SECONDS` counts as no match.
"""

from __future__ import annotations

import logging
from typing import Any

import regex

log = logging.getLogger("omniroute.rules")

MAX_PATTERN_LENGTH = 500
# A sane pattern answers in microseconds; this only caps what a pathological one may cost.
SEARCH_TIMEOUT_SECONDS = 0.02
FLAGS = regex.IGNORECASE | regex.UNICODE | regex.VERSION0


class PatternError(ValueError):
    """A pattern a rule may not use; the message says why."""


def _quantifier_at(pattern: str, i: int) -> tuple[bool, int]:
    """(is an unbounded-ish repeat, length of the quantifier) for the text at `i`."""
    if i >= len(pattern):
        return False, 0
    char = pattern[i]
    if char in "*+":
        return True, 1
    if char == "?":
        return False, 1
    if char == "{":
        end = pattern.find("}", i)
        if end == -1:
            return False, 0
        body = pattern[i + 1:end]
        low, sep, high = body.partition(",")
        if not low.strip().isdigit() and not (sep and low.strip() == ""):
            return False, 0
        if sep and high.strip() and not high.strip().isdigit():
            return False, 0
        repeats = (not sep and int(low) > 1) or (bool(sep) and (not high.strip() or int(high) > 1))
        return repeats, end - i + 1
    return False, 0


def check_shape(pattern: str) -> None:
    """Refuse nested repeats and backreferences (exponential backtracking)."""
    # One entry per open group: does it contain a repeat?
    groups: list[bool] = [False]
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            nxt = pattern[i + 1:i + 2]
            if (nxt.isdigit() and nxt != "0") or nxt in ("g", "k"):
                raise PatternError("backreferences are not allowed in rule patterns")
            i += 2
            if nxt in ("p", "P", "N") and pattern[i:i + 1] == "{":
                close = pattern.find("}", i)
                i = n if close == -1 else close + 1
            repeats, size = _quantifier_at(pattern, i)
            groups[-1] = groups[-1] or repeats
            i += size
            continue
        if char == "[":
            i = _skip_class(pattern, i)
            repeats, size = _quantifier_at(pattern, i)
            groups[-1] = groups[-1] or repeats
            i += size
            continue
        if char == "(":
            if pattern.startswith("(?P=", i):
                raise PatternError("backreferences are not allowed in rule patterns")
            groups.append(False)
            i += 1
            continue
        if char == ")" and len(groups) > 1:
            inner = groups.pop()
            repeats, size = _quantifier_at(pattern, i + 1)
            if repeats and inner:
                raise PatternError(
                    "a repeated group contains another repeat (like (a+)+), which can take "
                    "exponential time; rewrite it without the nesting")
            groups[-1] = groups[-1] or inner or repeats
            i += 1 + size
            continue
        repeats, size = _quantifier_at(pattern, i + 1)
        groups[-1] = groups[-1] or repeats
        i += 1 + size
    return None


def _skip_class(pattern: str, i: int) -> int:
    """The index after the character class that opens at `i`."""
    j = i + 1
    if pattern[j:j + 1] == "^":
        j += 1
    if pattern[j:j + 1] == "]":
        j += 1
    while j < len(pattern):
        if pattern[j] == "\\":
            j += 2
            continue
        if pattern[j] == "[":
            # `regex` allows nested sets ([[a-z]--[aeiou]] in V1); skip them whole.
            j = _skip_class(pattern, j)
            continue
        if pattern[j] == "]":
            return j + 1
        j += 1
    return j


def compile_pattern(pattern: Any) -> regex.Pattern[str]:
    """A case-insensitive compiled pattern, or PatternError naming what is wrong."""
    if not isinstance(pattern, str) or not pattern:
        raise PatternError("the value of 'matches' must be a non-empty regular expression string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"the pattern is {len(pattern)} characters; at most "
                           f"{MAX_PATTERN_LENGTH} are allowed")
    try:
        compiled = regex.compile(pattern, FLAGS)
    except regex.error as exc:
        raise PatternError(f"the regular expression does not compile: {exc}") from None
    check_shape(pattern)
    return compiled


def search(pattern: regex.Pattern[str], text: str, rule_id: int | None) -> bool:
    """Whether `pattern` occurs in `text`; a search over its time budget is no match."""
    try:
        return pattern.search(text, timeout=SEARCH_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        # The rule id only: message text never goes into a log line.
        log.warning("rule %s: pattern search timed out, treated as no match", rule_id)
        return False
