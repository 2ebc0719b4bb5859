"""Gradient-boosted trees as plain JSON arrays, scored with numpy: the learned ranker's model format.

`scripts/train_ranker.py` trains scikit-learn's HistGradientBoostingClassifier and writes each tree as four
parallel arrays (the feature a node splits on, its threshold, its two children; a leaf is its own child and holds
its value in `value`). Loading reads JSON, never a pickle; scoring walks every tree for every row at once, one
numpy step per level (a fraction of a millisecond for a question's few dozen sentences).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Forest:
    """Binary gradient-boosted trees: log-odds = baseline + the sum of each tree's leaf value."""

    features: tuple[str, ...]
    baseline: float
    feature: np.ndarray  # (trees, nodes) int: the feature a node compares; 0 at leaves
    threshold: np.ndarray  # (trees, nodes) float: go left when the value is at most this; +inf at leaves
    left: np.ndarray  # (trees, nodes) int: a leaf points at itself
    right: np.ndarray
    value: np.ndarray  # (trees, nodes) float: the leaf's contribution to the log-odds
    depth: int  # the deepest leaf's depth: steps to walk

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The log-odds of each row of `x` (rows: samples, columns: `features`)."""
        rows = np.asarray(x, dtype=float).reshape(-1, len(self.features))
        trees = np.arange(self.feature.shape[0])
        node = np.zeros((rows.shape[0], trees.size), dtype=np.intp)
        sample = np.arange(rows.shape[0])[:, None]
        for _ in range(self.depth):
            goes_left = rows[sample, self.feature[trees, node]] <= self.threshold[trees, node]
            node = np.where(goes_left, self.left[trees, node], self.right[trees, node])
        return np.asarray(self.baseline + self.value[trees, node].sum(axis=1), dtype=float)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Forest:
        trees: Sequence[dict[str, list[Any]]] = data["trees"]
        width = max(len(t["feature"]) for t in trees)

        def pad(key: str, fill: float, dtype: type) -> np.ndarray:
            out = np.full((len(trees), width), fill, dtype=dtype)
            for i, t in enumerate(trees):
                out[i, : len(t[key])] = t[key]
            return out

        left, right = pad("left", 0, np.intp), pad("right", 0, np.intp)
        threshold = pad("threshold", np.inf, float)
        leaf = left == np.arange(width)
        threshold[leaf] = np.inf
        return cls(
            features=tuple(data["features"]),
            baseline=float(data["baseline"]),
            feature=pad("feature", 0, np.intp),
            threshold=threshold,
            left=left,
            right=right,
            value=pad("value", 0.0, float),
            depth=int(data["depth"]),
        )


def export(model: Any, names: Sequence[str]) -> dict[str, Any]:
    """The JSON form of a fitted binary `sklearn.ensemble.HistGradientBoostingClassifier` over features `names`
    (numeric, no missing values), which `Forest.from_json` reads. Used by the training script; reads the fitted
    model's trees, imports nothing of scikit-learn."""
    trees = []
    for (predictor,) in model._predictors:  # one tree per boosting round (binary: one class)
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        index = np.arange(len(nodes))
        trees.append(
            {
                "feature": [int(f) for f in np.where(leaf, 0, nodes["feature_idx"])],
                "threshold": [float(t) for t in np.where(leaf, 0.0, nodes["num_threshold"])],
                "left": [int(v) for v in np.where(leaf, index, nodes["left"])],
                "right": [int(v) for v in np.where(leaf, index, nodes["right"])],
                "value": [float(v) for v in np.where(leaf, nodes["value"], 0.0)],
            }
        )
    depth = max(int(p.nodes["depth"].max()) for (p,) in model._predictors)
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return {"features": list(names), "baseline": baseline, "depth": depth, "trees": trees}
