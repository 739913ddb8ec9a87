"""The split behind every `augment --labelled-share` experiment, for any data with class labels."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from ..errors import GanforgeError

TEST_SHARE = 0.2


def few_labels_split(labels: np.ndarray, labelled_share: float, seed: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(labelled rows, test rows): TEST_SHARE of the rows, stratified, are the test set; `labelled_share` of the
    rest (stratified) is all a classifier may learn from. `what` names the rows in errors ("images", "clips")."""
    if not 0 < labelled_share <= 1:
        raise GanforgeError(f"--labelled-share must be in (0, 1], got {labelled_share}")
    rows = np.arange(len(labels))
    try:
        rest, test = train_test_split(rows, test_size=TEST_SHARE, stratify=labels, random_state=seed)
        labelled = rest if labelled_share == 1 else train_test_split(
            rest, train_size=labelled_share, stratify=labels[rest], random_state=seed)[0]
    except ValueError as error:
        raise GanforgeError(f"too few {what} per class to split off a test set and a labelled subset ({error})") \
            from None
    return labelled, test
