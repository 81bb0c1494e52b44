"""The password checker's (zxcvbn) advice in the reader's language.

zxcvbn words its warning and suggestions in English; each of its sentences is a message id
here (without its final full stop, which `too_easy` puts back between sentences), so a
refused password says why in the page's or the CLI's language. A sentence zxcvbn adds in a
later version stays as it wrote it. English reads exactly as before: 'the password is too
easy to guess: This is a top-10 common password'.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmroi.messages import M_, N_, Message

__all__ = ["SENTENCES", "too_easy"]

SENTENCES = frozenset(
    {
        N_("Add another word or two. Uncommon words are better"),
        N_("Capitalization doesn't help very much"),
        N_("Reversed words aren't much harder to guess"),
        N_("Predictable substitutions like '@' instead of 'a' don't help very much"),
        N_("Use a few words, avoid common phrases"),
        N_("No need for symbols, digits, or uppercase letters"),
        N_("Straight rows of keys are easy to guess"),
        N_("Short keyboard patterns are easy to guess"),
        N_("This is a top-10 common password"),
        N_("This is similar to a commonly used password"),
        N_("A word by itself is easy to guess"),
        N_("All-uppercase is almost as easy to guess as all-lowercase"),
        N_("Use a longer keyboard pattern with more turns"),
        N_('Repeats like "aaa" are easy to guess'),
        N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc"'),
        N_("This is a top-100 common password"),
        N_("This is a very common password"),
        N_("Names and surnames by themselves are easy to guess"),
        N_("Common names and surnames are easy to guess"),
        N_("Avoid repeated words and characters"),
        N_('Sequences like "abc" or "6543" are easy to guess'),
        N_("Avoid sequences"),
        N_("Recent years are easy to guess"),
        N_("Dates are often easy to guess"),
        N_("Avoid recent years"),
        N_("Avoid years that are associated with you"),
        N_("Avoid dates and years that are associated with you"),
    }
)
"""zxcvbn 4.5's sentences (`zxcvbn.feedback`), each without its final full stop."""


def _sentence(text: str) -> Message | str:
    cut = text[:-1] if text.endswith(".") else text
    return Message("password_advice", cut) if cut in SENTENCES else cut


def too_easy(sentences: Sequence[str]) -> Message:
    """The refusal of a weak password with zxcvbn's `sentences` (its warning, else its
    suggestions): English as it was, each sentence worded where the catalogue has it."""
    if not sentences:
        return M_("password_weak", "the password is too easy to guess")
    why: Message | str = _sentence(sentences[-1])
    for text in reversed(sentences[:-1]):
        stop = M_("password_advice_stop", "%(sentence)s.", sentence=_sentence(text))
        why = M_("password_advice_more", "%(first)s %(rest)s", first=stop, rest=why)
    return M_("password_weak_why", "the password is too easy to guess: %(why)s", why=why)
