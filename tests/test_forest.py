"""The ranker's tree format: scikit-learn's boosted trees exported to JSON score as scikit-learn scores them."""

from __future__ import annotations

import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from bot.answer.forest import Forest, export


def test_exported_trees_give_scikit_learn_s_log_odds() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 4))
    y = ((x[:, 0] > 0.3) ^ (x[:, 1] * x[:, 2] > 0)).astype(int)  # needs interactions: deep trees
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=9, random_state=0).fit(x, y)
    forest = Forest.from_json(json.loads(json.dumps(export(model, ("a", "b", "c", "d")))))
    rows = rng.normal(size=(200, 4))
    assert forest.features == ("a", "b", "c", "d") and forest.feature.shape[0] == 30
    assert np.allclose(forest.logits(rows), model.decision_function(rows), atol=1e-9)
    assert forest.logits(rows[:0]).shape == (0,)


def test_a_stump_goes_left_at_its_threshold() -> None:
    stump = Forest.from_json(
        {
            "features": ["f"],
            "baseline": 0.5,
            "depth": 1,
            "trees": [
                {
                    "feature": [0, 0, 0],
                    "threshold": [1.0, 0, 0],
                    "left": [1, 1, 2],
                    "right": [2, 1, 2],
                    "value": [0, -1.0, 2.0],
                },
            ],
        }
    )
    assert stump.logits(np.array([[1.0], [1.5], [-3.0]])).tolist() == [-0.5, 2.5, -0.5]
