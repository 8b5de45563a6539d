"""Pacing's "close" graph (scoring.integrity, signal pacing (b)): for each answer, how many answers differ from it
in at most ``pacing_hamming`` items, counted by key instead of the n×n comparison (issue 25), must be the same."""

import numpy as np
import pytest

from scoring.integrity import close_counts


@pytest.mark.parametrize("hamming", [0, 1, 2])
def test_close_counts_equal_the_pairwise_comparison(hamming):
    rng = np.random.default_rng(hamming)
    for n in (0, 1, 2, 50, 700):
        # Few options per item so that identical and near-identical vectors are common, as in coached answers.
        v = rng.choice(5, size=(n, 9), p=[0.7, 0.2, 0.05, 0.03, 0.02]).astype(np.int8)
        pairwise = ((v[:, None, :] != v[None, :, :]).sum(axis=2) <= hamming).sum(axis=1)
        assert close_counts(v, hamming, block=64).tolist() == pairwise.tolist()
