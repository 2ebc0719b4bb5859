"""The ranker's tree format: scikit-learn's and LightGBM's boosted trees exported to JSON score as the libraries
score them."""

from __future__ import annotations

import json

import lightgbm
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from bot.answer.forest import Forest, calibrated, export, export_lightgbm


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


def test_exported_ranking_trees_give_lightgbm_s_scores_and_fold_a_calibration_in() -> None:
    """The ranker's second model is LightGBM's `lambdarank`: its exported trees score every row, including rows
    exactly at a split's threshold and zeros, as `predict` does; a calibration scales and shifts that score, nothing
    else. (LightGBM splits zeros from the rest at +-1e-35 and reads inputs that small as 0: no feature is.)"""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 4))
    y = ((x[:, 0] > 0.3) ^ (x[:, 1] * x[:, 2] > 0)).astype(int)
    params = {"objective": "lambdarank", "num_leaves": 9, "min_data_in_leaf": 5, "verbose": -1, "num_threads": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(x, y, group=[20] * 30), num_boost_round=30)
    doc = json.loads(json.dumps(export_lightgbm(booster.dump_model(), ("a", "b", "c", "d"))))
    forest = Forest.from_json(doc)
    thresholds = [t for tree in doc["trees"] for t in tree["threshold"] if abs(t) > 1e-30][:100]
    at = np.tile(np.array(thresholds)[:, None], (1, 4))
    rows = np.vstack([rng.normal(size=(200, 4)), at, np.zeros((1, 4)), np.where(rng.random(at.shape) < 0.5, 0, at)])
    expected = booster.predict(rows, raw_score=True)
    assert forest.feature.shape[0] == 30 and len(thresholds) == 100
    assert np.allclose(forest.logits(rows), expected, rtol=0, atol=1e-12)
    assert np.allclose(Forest.from_json(calibrated(doc, 0.5, -2.0)).logits(rows), 0.5 * expected - 2.0, atol=1e-12)


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
