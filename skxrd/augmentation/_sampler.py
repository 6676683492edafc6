"""Class balancing by augmentation: an imbalanced-learn over-sampler."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import torch
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from imblearn.utils._validation import ArraysTransformer
from scipy import sparse
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data
from tqdm.auto import tqdm

from ..utils._validation import check_bool, check_int
from ._compose import _KeepMaximum, default_augmentation

__all__ = ["AugmentingSampler"]


class AugmentingSampler(BaseOverSampler):
    """Balance classes with augmented copies of their own patterns.

    An imbalanced-learn over-sampler: for every class that needs more samples,
    patterns of that class are drawn with replacement and passed through a
    batch augmentation (torch, on the CPU) to make new, different samples of the
    class. In an :class:`imblearn.pipeline.Pipeline` it acts in ``fit`` only;
    ``predict`` sees the raw input. The original samples come first and
    unchanged, followed by the new ones (grouped by class in the order of
    ``sampling_strategy_``).

    Parameters
    ----------
    augmentation : callable, optional
        Called as ``augmentation(x, generator=g)`` on float32 CPU tensors of
        shape ``(batch, n_features)`` with a :class:`torch.Generator` ``g``;
        returns a tensor of the same shape. By default
        :func:`default_augmentation` on the grid ``two_theta``, whose
        max-normalized output is scaled back to the maximum of the pattern
        it comes from, so that the new rows keep the scale of the originals
        whatever their normalization (area, counts); a given callable's
        output is kept as it returns it.
    sampling_strategy : float, str, dict, int or callable, default="auto"
        Which classes to over-sample and to how many samples, as for
        imbalanced-learn's over-samplers: ``"auto"`` (all but the majority,
        up to the majority's count), ``"all"``, ``"minority"``,
        ``"not minority"``, ``"not majority"``, a dict ``{class: count}``, a
        callable ``y -> dict`` or, for binary targets, a float ratio. An int is
        a target count, as ``target_count``.
    target_count : int, optional
        Bring every class to this many samples (e.g. 50_000 for a balanced,
        augmented training set); classes that already have more are kept as they
        are (this sampler never removes samples). Replaces ``sampling_strategy``,
        which must then be left at "auto".
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of the copied samples and the augmentation's torch
        generator; an int gives the same output at every call.
    two_theta : array-like of shape (n_features,), optional
        The patterns' 2θ grid in degrees for the default augmentation; by
        default the standard 5–90° grid in 0.02° steps (4250 features). Not used
        when ``augmentation`` is given (give that one its grid).
    batch_size : int, default=1024
        Patterns augmented per torch call (bounds the memory). The torch
        generator draws batch by batch, so another ``batch_size`` gives other
        (equally random) augmented rows for the same ``random_state``.
    verbose : bool, default=False
        A progress bar over the batches (tens of thousands of new patterns
        take a minute on a CPU).

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of samples added to each class.
    sample_indices_ : ndarray of shape (n_samples_new,)
        Index in the input of the pattern each output row comes from (the
        originals: ``0 .. n_samples - 1``; the new rows: the pattern that was
        augmented).
    n_features_in_ : int
        Number of features of the input.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when the input has string column names.

    See Also
    --------
    imblearn.over_sampling.RandomOverSampler : Copies without augmentation.

    Notes
    -----
    Sparse input is accepted (the copies are augmented dense) and returned
    sparse. ``X`` is converted to float64 unless it is float32; the output
    keeps its dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skxrd.augmentation import AugmentingSampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((30, 4250)).astype(np.float32)
    >>> y = np.array([0] * 20 + [1] * 10)
    >>> X_res, y_res = AugmentingSampler(random_state=0).fit_resample(X, y)
    >>> X_res.shape, X_res.dtype, np.bincount(y_res).tolist()
    ((40, 4250), dtype('float32'), [20, 20])
    >>> sampler = AugmentingSampler(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> bool((X_res[:30] == X).all())  # the originals come first, unchanged
    True
    >>> src = sampler.sample_indices_[30:]  # the sources of the new rows
    >>> bool((y[src] == 1).all()), bool((X_res[30:] != X[src]).any())
    (True, True)
    >>> AugmentingSampler(target_count=50, random_state=0).fit_resample(X, y)[0].shape
    (100, 4250)
    """

    # parameters are checked by _check_params (skxrd's checks), not by
    # scikit-learn's private parameter validation
    _parameter_constraints: dict = {}

    def __init__(
        self,
        augmentation=None,
        *,
        sampling_strategy="auto",
        target_count=None,
        random_state=None,
        two_theta=None,
        batch_size=1024,
        verbose=False,
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.augmentation = augmentation
        self.target_count = target_count
        self.random_state = random_state
        self.two_theta = two_theta
        self.batch_size = batch_size
        self.verbose = verbose

    # ------------------------------------------------------------- validation
    def _check_params(self):
        """One clear error for a parameter of the wrong kind."""
        if self.augmentation is not None and not callable(self.augmentation):
            raise ValueError(
                "augmentation must be a callable (x, generator=g) -> x, or None; "
                f"got {self.augmentation!r}"
            )
        check_int(self.target_count, "target_count", minimum=1, allow_none=True)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_bool(self.verbose, "verbose")
        strategy = self.sampling_strategy
        if isinstance(strategy, bool) or not (
            isinstance(strategy, (numbers.Real, str, Mapping)) or callable(strategy)
        ):
            raise ValueError(
                "sampling_strategy must be a float, an int, a str, a dict or a "
                f"callable, got {strategy!r}"
            )
        if isinstance(strategy, numbers.Integral):
            check_int(strategy, "sampling_strategy (a target count)", minimum=1)
        elif isinstance(strategy, numbers.Real) and not 0 < strategy <= 1:
            raise ValueError(
                f"a float sampling_strategy must lie in (0, 1], got {strategy!r}"
            )

    def _check_X_y(self, X, y, accept_sparse=None):
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = validate_data(
            self,
            X=X,
            y=y,
            reset=True,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
        )
        return X, y, binarize_y

    def _sampling_strategy(self, y):
        """``{class: n_samples_to_add}`` from sampling_strategy / target_count."""
        strategy, target = self.sampling_strategy, self.target_count
        if isinstance(strategy, numbers.Integral) and not isinstance(strategy, bool):
            if target is not None:
                raise ValueError(
                    "give the target count once: as sampling_strategy=int or as "
                    "target_count"
                )
            target = int(strategy)
        elif target is not None and not (
            isinstance(strategy, str) and strategy == "auto"
        ):
            raise ValueError(
                "target_count replaces sampling_strategy; leave sampling_strategy "
                f"at 'auto' (got {strategy!r})"
            )
        if target is None:
            return check_sampling_strategy(strategy, y, self._sampling_type)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError(
                "The target 'y' needs to have more than 1 class. "
                f"Got {len(classes)} class instead"
            )
        return {c: max(0, int(target) - int(n)) for c, n in zip(classes, counts)}

    # --------------------------------------------------------------- sampling
    def fit(self, X, y, **params):
        """Check the inputs and compute ``sampling_strategy_``.

        Use :meth:`fit_resample` to resample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Patterns.
        y : array-like of shape (n_samples,)
            Class labels.
        **params : dict
            Ignored.

        Returns
        -------
        self : object
        """
        self._check_params()
        check_classification_targets(y)
        X, y, _ = self._check_X_y(X, y)
        self.sampling_strategy_ = self._sampling_strategy(y)
        return self

    def fit_resample(self, X, y, **params):
        """Add augmented copies so that the classes reach their target counts.

        Parameters
        ----------
        X : {array-like, dataframe, sparse matrix} of shape (n_samples, n_features)
            Patterns.
        y : array-like of shape (n_samples,)
            Class labels.
        **params : dict
            Ignored.

        Returns
        -------
        X_resampled : {ndarray, dataframe, sparse matrix} of shape \
(n_samples_new, n_features)
            The input followed by the new samples, in the type and dtype of ``X``.
        y_resampled : array-like of shape (n_samples_new,)
            Their labels.
        """
        self._check_params()
        check_classification_targets(y)
        arrays_transformer = ArraysTransformer(X, y)
        X, y, binarize_y = self._check_X_y(X, y)
        self.sampling_strategy_ = self._sampling_strategy(y)
        X_res, y_res = self._fit_resample(X, y)
        if binarize_y:
            y_res = label_binarize(y_res, classes=np.unique(y))
        return arrays_transformer.transform(X_res, y_res)

    def _fit_resample(self, X, y):
        rng = check_random_state(self.random_state)
        sources = [np.arange(X.shape[0])]
        for cls, n_new in self.sampling_strategy_.items():
            if n_new > 0:
                members = np.flatnonzero(y == cls)
                sources.append(members[rng.randint(0, len(members), size=n_new)])
        new = np.concatenate(sources[1:]) if len(sources) > 1 else sources[0][:0]
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self.sample_indices_ = np.concatenate([sources[0], new])
        n = X.shape[0]
        if sparse.issparse(X):
            X_new = np.empty((len(new), X.shape[1]), dtype=X.dtype)
            self._augment(X, new, seed, X_new)
            X_res = sparse.vstack([X, type(X)(X_new)], format=X.format, dtype=X.dtype)
        else:
            X_res = np.empty((n + len(new), X.shape[1]), dtype=X.dtype)
            X_res[:n] = X
            self._augment(X, new, seed, X_res[n:])
        return X_res, y[self.sample_indices_]

    def _augment(self, X, rows, seed, out):
        """Write augmented copies of ``X[rows]`` into ``out``, batch by batch."""
        augmentation = self.augmentation
        if augmentation is None:
            # The default augmentation max-normalizes its output: copies of
            # area-normalized patterns (or counts) came back 10-100 times
            # larger than the originals, only in the classes that were
            # over-sampled, a scale that told the classifier the class.
            augmentation = _KeepMaximum(default_augmentation(two_theta=self.two_theta))
        generator = torch.Generator().manual_seed(seed)
        starts = tqdm(
            range(0, len(rows), self.batch_size),
            disable=not self.verbose,
            desc="augmenting",
            unit="batch",
        )
        for start in starts:
            chunk = X[rows[start : start + self.batch_size]]
            if sparse.issparse(chunk):
                chunk = chunk.toarray()
            batch = torch.from_numpy(np.ascontiguousarray(chunk, dtype=np.float32))
            result = augmentation(batch, generator=generator)
            if not isinstance(result, torch.Tensor) or result.shape != batch.shape:
                raise ValueError(
                    "the augmentation must return a tensor of the input's shape "
                    f"{tuple(batch.shape)}"
                )
            out[start : start + len(chunk)] = result.detach().cpu().numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.sampler_tags.sample_indices = True
        return tags
