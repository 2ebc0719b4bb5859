"""How the learned ranker ranks on multilingual-e5's similarities through the fitted scale, without e5 stores.

For each question of a test set, BM25's evidence (`train_ranker.bm25_evidence`, in memory, as of the question's
date: no store, no embedding at ingest), and per way of scoring the share of answerable questions whose lead
sentence holds the answer and is not declined, with the shares of false and correct declines (by the learned
decline model; the entity check, the same for all, is left out). The ways: the learned ranker on MiniLM's
similarities (the default store's); on e5's through the scale (`similarity_scales.json`); and on e5's raw (what
the scale is for). Until session 17 it also measured the hand-set scorer, since deleted. Neither hybrid retrieval
nor the entity check, so these are not `newsbot eval`'s figures; they tell whether the mapped similarity costs the
ranker anything.

    python scripts/measure_similarity_scale.py squad gold    # from the repository's root
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.answer import decline, ranker
from bot.answer.question import analyse
from bot.evaluation import QAItem, contains_answer, load_questions
from vectorstore.embedder import load_embedder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_ranker  # noqa: E402  (BM25 evidence, the sentence vectors computed as the engine computes them)

SETS = {  # question file, corpus, answer in the gold article only (as `newsbot eval --answer-in-gold`)
    "squad": ("eval/squad2_dev_half.qa.jsonl", "corpora/squad2_dev_half.corpus.jsonl", False),
    "gold": ("eval/realtimeqa_gold.qa.jsonl", None, True),
}
GOLD_POOL = Path("var/pools/rtqa2022-gold.corpus.jsonl")  # as bench/english.py pools them


def items_of(name: str, skip: int, limit: int, gold_pool: Path) -> tuple[list[QAItem], list[dict[str, Any]]]:
    questions, corpus, in_gold = SETS[name]
    items = load_questions(train_ranker.SHARED / questions, answer_in_gold=in_gold, limit=skip + limit)[skip:]
    records = train_ranker.read_jsonl(gold_pool if corpus is None else train_ranker.SHARED / corpus)
    return items, records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sets", nargs="+", choices=sorted(SETS))
    p.add_argument("--limit", type=int, default=200, help="the set's first N questions (the answerable are measured)")
    p.add_argument("--skip", type=int, default=0, help="after its first M questions (to add questions to a run)")
    p.add_argument("--gold-pool", type=Path, default=GOLD_POOL, help="the 2022 gold questions' pooled articles")
    args = p.parse_args(argv)
    model, declines = ranker.load_model(), decline.load_model()
    minilm, e5 = load_embedder(), load_embedder(multilingual=True)
    scale = ranker.similarity_scale(model, e5.name)
    assert scale is not None, "no similarity scale for e5: scripts/fit_similarity_scale.py"
    ours, theirs = train_ranker.TrainingVectors(minilm), train_ranker.TrainingVectors(e5)
    report = {}
    for name in args.sets:
        items, records = items_of(name, args.skip, args.limit, args.gold_pool)
        ways: dict[str, Callable[[str], ranker.Similarity]] = {
            f"learned, {minilm.name}": ours.similarity,
            f"learned, {e5.name} through the scale": lambda q: scale.wrap(theirs.similarity(q)),
            f"learned, {e5.name} raw": theirs.similarity,
        }
        hits, declined = dict.fromkeys(ways, 0), {way: [0, 0] for way in ways}  # [answerable, unanswerable]
        for item, passages, idf in train_ranker.bm25_evidence(items, records, name):
            question = analyse(item.question)
            for way, similarity in ways.items():
                scored = ranker.candidate_sentences(question, passages, idf, similarity(item.question), model)
                features = decline.question_features(question, scored, passages, idf, 1.0)
                weak = not scored or declines.probability(features) < declines.threshold
                declined[way][not item.answerable] += weak
                lead = bool(scored) and contains_answer(scored[0].evidence.text, item.answers)
                hits[way] += item.answerable and lead and not weak
        answerable = sum(1 for i in items if i.answerable)
        report[name] = {
            "answerable": answerable,
            "unanswerable": len(items) - answerable,
            **{
                way: {
                    "lead_holds_answer_and_answered": round(hits[way] / max(1, answerable), 3),
                    "false_declines": round(declined[way][0] / max(1, answerable), 3),
                    "correct_declines": round(declined[way][1] / max(1, len(items) - answerable), 3),
                }
                for way in ways
            },
        }
        print(json.dumps({name: report[name]}), file=sys.stderr, flush=True)
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
