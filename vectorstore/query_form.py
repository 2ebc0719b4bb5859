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

from vectorstore.analysis import DETERMINERS, inflect

# The auxiliary, and the Penn tag its main verb takes once the auxiliary is gone.
_AUXILIARIES = {"did": "VBD", "does": "VBZ", "do": "VBP"}
_WORD = re.compile(r"[a-z]+")


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
        if not _WORD.fullmatch(word) or lowered[j - 1] in DETERMINERS:
            continue
        inflected = inflect(word, _AUXILIARIES[lowered[aux]])
        if inflected:
            return " ".join(words[:aux] + words[aux + 1 : j] + [inflected] + words[j + 1 :])
    return question
