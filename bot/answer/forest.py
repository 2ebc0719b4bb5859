"""Gradient-boosted trees as plain JSON arrays, scored with numpy: the learned ranker's model format.

`scripts/train_ranker.py` trains scikit-learn's HistGradientBoostingClassifier and LightGBM's ranking trees and
writes each tree as four parallel arrays (the feature a node splits on, its threshold, its two children; a leaf is
its own child and holds its value in `value`). Loading reads JSON, never a pickle; scoring walks every tree for
every row at once, one numpy step per level (a fraction of a millisecond for a question's few dozen sentences).
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


def export_lightgbm(dump: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The JSON form of a LightGBM booster's `dump_model()` (numeric splits "<=", no categorical features, as the
    ranker's are), which `Forest.from_json` reads. LightGBM keeps the learning rate in its leaf values and a ranking
    objective starts from 0, so the baseline is 0. Used by the training script; imports nothing of LightGBM."""
    trees = [_flatten(info["tree_structure"]) for info in dump["tree_info"]]
    depth = max(1, *(t.pop("depth") for t in trees))
    return {"features": list(names), "baseline": 0.0, "depth": depth, "trees": trees}


def _flatten(root: dict[str, Any]) -> dict[str, Any]:
    """One nested LightGBM tree as `Forest`'s parallel arrays (a leaf its own child), with its depth."""
    tree: dict[str, Any] = {"feature": [], "threshold": [], "left": [], "right": [], "value": [], "depth": 0}
    stack: list[tuple[dict[str, Any], int, int | None, str]] = [(root, 0, None, "")]
    while stack:
        node, level, parent, side = stack.pop()
        index = len(tree["feature"])
        if parent is not None:
            tree[side][parent] = index
        leaf = "split_feature" not in node  # a leaf, or a tree of one leaf
        if not leaf and (node["decision_type"] != "<=" or node.get("missing_type", "None") not in ("None", "NaN")):
            raise ValueError(f"unsupported LightGBM split: {node['decision_type']} {node.get('missing_type')}")
        tree["feature"].append(0 if leaf else int(node["split_feature"]))
        tree["threshold"].append(0.0 if leaf else float(node["threshold"]))
        tree["left"].append(index)
        tree["right"].append(index)
        tree["value"].append(float(node["leaf_value"]) if leaf else 0.0)
        if leaf:
            tree["depth"] = max(tree["depth"], level)
        else:
            stack += [(node["right_child"], level + 1, index, "right"), (node["left_child"], level + 1, index, "left")]
    return tree


def calibrated(doc: dict[str, Any], scale: float, shift: float) -> dict[str, Any]:
    """The forest of `doc` scoring `scale * score + shift`: a ranking model's scores turned into log-odds by a
    logistic calibration, folded into its leaf values and baseline (scoring needs nothing else)."""
    trees = [{**t, "value": [scale * v for v in t["value"]]} for t in doc["trees"]]
    return {**doc, "baseline": scale * float(doc["baseline"]) + shift, "trees": trees}
