"""Torch datasets, samplers and loaders of the network estimators.

Arrays and pattern stores, block-shuffled batches, the stratified validation
split.
"""

from __future__ import annotations

import sys

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit

try:
    import torch
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skxrd.estimators needs PyTorch and skorch: pip install skxrd[torch]"
    ) from exc


# --------------------------------------------------------------------------- #
# Data: batched indexing, tail-merging batches, seeded stratified hold-out
# --------------------------------------------------------------------------- #
#: the key of the per-sample weights in a weighted batch's inputs
WEIGHT_KEY = "sample_weight"


class _ArrayDataset(torch.utils.data.Dataset):
    """Rows of a 2D float32 array (and integer targets), fetched a batch at a time.

    ``__getitems__`` gathers a whole batch with one numpy fancy-indexing call
    (no per-sample tensors and collation), which :func:`_collate` passes on.

    With ``index``, the dataset holds only those rows of ``X`` (``y`` and
    ``sample_weight`` then have one value per held row): the rows of weight
    zero are left out without copying ``X``. With ``sample_weight``, a batch's
    inputs are ``{"X": patterns, "sample_weight": weights}`` (skorch's dict
    inputs), which the net's ``get_loss`` reads and its ``infer`` strips.
    """

    def __init__(self, X, y=None, length=None, *, sample_weight=None, index=None):
        self.X = X
        self.y = None if y is None else np.asarray(y, dtype=np.int64)
        self.index = None if index is None else np.asarray(index, dtype=np.intp)
        self.sample_weight = (
            None
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float32)
        )

    def __len__(self):
        return len(self.X) if self.index is None else len(self.index)

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.intp)
        rows = idx if self.index is None else self.index[idx]
        xb = torch.from_numpy(np.ascontiguousarray(self.X[rows], dtype=np.float32))
        if self.y is None:
            yb = torch.zeros(len(idx), dtype=torch.int64)
        else:
            yb = torch.from_numpy(self.y[idx])
        if self.sample_weight is not None:
            xb = {"X": xb, WEIGHT_KEY: torch.from_numpy(self.sample_weight[idx])}
        return xb, yb


class _HeldRows:
    """The rows ``index`` of ``X`` as a sequence of rows (``len``, ``[rows]``),
    without copying them: what the resume fingerprint samples of a fit that
    leaves rows of weight zero out."""

    def __init__(self, X, index):
        self.X = X
        self.index = np.asarray(index, dtype=np.intp)

    def __len__(self):
        return len(self.index)

    def __getitem__(self, rows):
        return self.X[self.index[rows]]


def _collate(batch):
    """The batch is already collated by :meth:`_ArrayDataset.__getitems__`."""
    return batch


# Rows shuffled together when training from a pattern store (the store's HDF5
# chunk cache holds them).
_SHUFFLE_GROUP_BYTES = 32 << 20


class _StoreDataset(_ArrayDataset):
    """Rows of a :class:`skxrd.datasets.PatternStore`, read from disk a batch at a time.

    ``shuffle_blocks`` ``(block_rows, group_rows)`` tells :func:`_train_loader`
    to shuffle the order of blocks of consecutive rows (one HDF5 chunk each)
    and the rows within groups of blocks, so that reads stay within a few
    chunks (held by the store's chunk cache) rather than all over the file.
    """

    def __init__(self, rows, y=None, *, sample_weight=None, index=None):
        super().__init__(rows, y, sample_weight=sample_weight, index=index)
        block = max(1, int(rows.chunks[0]))
        row_bytes = 4 * int(rows.shape[1])
        group = max(1, _SHUFFLE_GROUP_BYTES // (row_bytes * block)) * block
        self.shuffle_blocks = (block, group)


def _as_store(X):
    """``X`` when it is a :class:`skxrd.datasets.PatternStore`, else None."""
    # a store exists only once its module is imported: predicting on arrays
    # need not import skxrd.datasets (its simulators: 0.2 s of skxrd predict)
    module = sys.modules.get("skxrd.datasets._store")
    return X if module is not None and isinstance(X, module.PatternStore) else None


class _BlockShuffleSampler(torch.utils.data.Sampler):
    """A random order of ``range(n)`` that reads rows of a store mostly in order.

    Blocks of ``block_rows`` consecutive indices are taken in random order;
    each run of blocks that together hold ``group_rows`` indices is permuted
    as a whole. Seeded from torch's global generator, like
    :class:`torch.utils.data.RandomSampler`.
    """

    def __init__(self, n, block_rows, group_rows):
        self.n = n
        self.block_rows = block_rows
        self.group_blocks = max(1, group_rows // block_rows)

    def __iter__(self):
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        rng = np.random.default_rng(seed)
        starts = np.arange(0, self.n, self.block_rows)
        order = starts[rng.permutation(len(starts))]
        for g in range(0, len(order), self.group_blocks):
            group = np.concatenate(
                [
                    np.arange(a, min(a + self.block_rows, self.n))
                    for a in order[g : g + self.group_blocks]
                ]
            )
            yield from rng.permutation(group).tolist()

    def __len__(self):
        return self.n


class _TailMergingBatchSampler(torch.utils.data.Sampler):
    """Batches of ``batch_size`` where a last batch of one sample joins the previous.

    Batch normalization cannot train on a batch of one sample whose feature
    maps have length 1; merging the lone tail avoids that for every data size.
    """

    def __init__(self, sampler, batch_size):
        self.sampler = sampler
        self.batch_size = batch_size

    def __iter__(self):
        indices = list(self.sampler)
        bounds = list(range(0, len(indices), self.batch_size))
        if len(bounds) > 1 and len(indices) - bounds[-1] == 1:
            bounds.pop()
        for i, start in enumerate(bounds):
            stop = bounds[i + 1] if i + 1 < len(bounds) else len(indices)
            yield indices[start:stop]

    def __len__(self):
        n = len(self.sampler)
        n_batches = -(-n // self.batch_size)
        if n_batches > 1 and n % self.batch_size == 1:
            n_batches -= 1
        return n_batches


def _train_loader(dataset, batch_size=128, shuffle=True, **kwargs):
    """skorch's ``iterator_train``: a DataLoader with tail-merging batches.

    Rows of a pattern store (:class:`_StoreDataset`, or a subset of one) more
    than one shuffle group are shuffled by blocks (:class:`_BlockShuffleSampler`).
    """
    base = dataset.dataset if isinstance(dataset, torch.utils.data.Subset) else dataset
    blocks = getattr(base, "shuffle_blocks", None)
    if shuffle and blocks is not None and len(dataset) > blocks[1]:
        sampler = _BlockShuffleSampler(len(dataset), *blocks)
    elif shuffle:
        sampler = torch.utils.data.RandomSampler(dataset)
    else:
        sampler = torch.utils.data.SequentialSampler(dataset)
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=_TailMergingBatchSampler(sampler, batch_size),
        **kwargs,
    )


def _holdout_indices(y, fraction, seed):
    """Seeded stratified (train, valid) indices, or None when no split fits.

    Classes with a single sample stay in the training set; the others are split
    in proportion. Returns None when ``fraction`` is falsy or when the data are
    too few for a validation set holding every splittable class.
    """
    if not fraction:
        return None
    y = np.asarray(y)
    n = len(y)
    classes, counts = np.unique(y, return_counts=True)
    splittable = np.isin(y, classes[counts >= 2])
    n_classes = int(np.sum(counts >= 2))
    n_valid = int(np.ceil(fraction * n))
    n_pool = int(splittable.sum())
    if n_classes == 0 or n_valid < n_classes or n_pool - n_valid < n_classes:
        return None
    pool = np.flatnonzero(splittable)
    sss = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=seed)
    try:
        train, valid = next(sss.split(np.zeros(n_pool), y[pool]))
    except ValueError:
        return None
    train = np.sort(np.concatenate([pool[train], np.flatnonzero(~splittable)]))
    return train, np.sort(pool[valid])


class _HoldoutSplit:
    """skorch ``train_split``: the seeded stratified hold-out of the estimator.

    Holds only the fraction and the seed (the indices are recomputed), so that
    the fitted net does not carry index arrays the size of the training set.
    """

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        split = _holdout_indices(y, self.fraction, self.seed)
        if split is None:  # pragma: no cover - the estimator checks this first
            raise ValueError("the data are too few for a validation split")
        train, valid = split
        return (
            torch.utils.data.Subset(dataset, train.tolist()),
            torch.utils.data.Subset(dataset, valid.tolist()),
        )
