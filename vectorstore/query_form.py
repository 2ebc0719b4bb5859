"""The form in which a question is embedded.

all-MiniLM-L6-v2 is a symmetric model: it scores a question against a passage the way it scores two
sentences, so the question's grammar matters. A do-support question ("What did Italy pledge?") puts the
verb in its bare form after an auxiliary, while the passage that answers it states the fact in the past
tense ("Italy approved a €140 million package"). Restoring the statement's word order and tense
("What Italy pledged") moves that passage from 6th to 2nd of the sample's 9 chunks. Over 3,000 SQuAD and
143 RealTime QA questions, dense doc hit@1/@5 moved by less than one point either way, so nothing else is
lost.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The auxiliary, and the Penn tag its main verb takes once the auxiliary is gone.
_AUXILIARIES = {"did": "VBD", "does": "VBZ", "do": "VBP"}
# After these a word is a noun ("the war cost" is subject "the war" and verb "cost").
_DETERMINERS = {
    "the", "a", "an", "his", "her", "its", "their", "our", "this", "that", "these", "those", "my", "your",
    "some", "any", "each", "every", "no",
}
_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=4096)
def _inflect(word: str, tag: str) -> str | None:
    """`word` in tense `tag` when `word` is a verb's bare form; None when it is anything else."""
    import lemminflect  # loads its tables on first use (~0.5 s), so only when a question is embedded

    lemmas = lemminflect.getAllLemmas(word).get("VERB")
    if not lemmas or lemmas[0] != word:
        return None
    forms = lemminflect.getInflection(word, tag)
    return forms[0] if forms else None


def declarative(question: str) -> str:
    """'What did Italy pledge?' -> 'What Italy pledged'; questions without do-support come back as given.

    The main verb is the first lowercase bare verb at least one word after the auxiliary (the subject sits
    between them) that does not follow a determiner.
    """
    words = question.strip().rstrip("?").split()
    lowered = [w.lower() for w in words]
    aux = next((i for i, w in enumerate(lowered) if w in _AUXILIARIES), None)
    if aux is None:
        return question
    for j in range(aux + 2, len(words)):
        word = words[j]
        if not _WORD.fullmatch(word) or lowered[j - 1] in _DETERMINERS:
            continue
        inflected = _inflect(word, _AUXILIARIES[lowered[aux]])
        if inflected:
            return " ".join(words[:aux] + words[aux + 1 : j] + [inflected] + words[j + 1 :])
    return question
