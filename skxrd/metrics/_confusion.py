"""CrystalSystemConfusionDisplay: the confusion matrix over the seven crystal
systems, from crystal-system or space-group labels (beside scikit-learn's
ConfusionMatrixDisplay in its metrics)."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..crystal import CRYSTAL_SYSTEMS, to_crystal_system
from ..utils._validation import check_real, plain_scalar
from ._coverage import _check_1d, _check_same_length, _check_sample_weight

__all__ = ["CrystalSystemConfusionDisplay"]


def _crystal_system_of(value) -> str | None:
    """The crystal system of a system name, space-group number or symbol."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        name = value.strip()
        if name.lower() in CRYSTAL_SYSTEMS:
            return name.lower()
        try:
            return str(to_crystal_system(name))
        except (ValueError, TypeError, KeyError):
            return None
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number == round(number) and 1 <= number <= 230:
            return str(to_crystal_system(int(number)))
    return None


def _crystal_systems(y, what) -> np.ndarray:
    """The crystal system of each label of ``y`` (object array of str)."""
    try:
        arr = np.asarray(y, dtype=object)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1:
        shape = None if arr is None else arr.shape
        raise ValueError(f"{what} must be a 1D array of labels, got shape {shape}")
    out = np.empty(len(arr), dtype=object)
    cache, bad = {}, []
    for i, value in enumerate(arr.tolist()):
        key = (type(value), value)
        try:
            system = cache[key]
        except (KeyError, TypeError):
            system = _crystal_system_of(value)
            try:
                cache[key] = system
            except TypeError:  # unhashable
                pass
        if system is None and not any(repr(value) == repr(b) for b in bad):
            bad.append(value)
        out[i] = system
    if bad:
        shown = ", ".join(repr(plain_scalar(b)) for b in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ValueError(
            f"{what} has labels that are neither crystal systems "
            f"({', '.join(CRYSTAL_SYSTEMS)}) nor space groups (numbers 1-230 or "
            f"symbols): {shown}{more}"
        )
    return out


class CrystalSystemConfusionDisplay:
    """Confusion matrix over the seven crystal systems.

    The rows (true) and columns (predicted) follow the systems in order of
    increasing symmetry: triclinic, monoclinic, orthorhombic, tetragonal,
    trigonal, hexagonal, cubic, so that confusions between neighbouring
    systems sit next to the diagonal. The labels may be crystal-system names
    or space groups (numbers 1-230 or symbols), mixed freely: a prediction
    counts as right when it falls in the true crystal system. Plotting is
    delegated to :class:`sklearn.metrics.ConfusionMatrixDisplay`.

    Parameters
    ----------
    confusion_matrix : array-like of shape (n_systems, n_systems)
        Counts or fractions; rows true systems, columns predicted ones.
    display_labels : list of str, default=None
        The systems of the rows and columns; None: all seven (then the
        matrix must be 7 by 7).
    accuracy : float, default=None
        Fraction of right predictions, shown in the title; None: the trace of
        the matrix over its sum (the accuracy for a matrix of counts).

    Attributes
    ----------
    confusion_matrix_ : ndarray of shape (n_systems, n_systems)
        The plotted matrix.
    display_labels_ : list of str
        The systems of its rows and columns.
    accuracy_ : float
        Fraction of right predictions.
    im_ : matplotlib AxesImage
        The image of the matrix.
    text_ : ndarray of matplotlib Text or None
        The values, when included.
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        The figure.

    See Also
    --------
    sklearn.metrics.ConfusionMatrixDisplay : The general display.
    skxrd.crystal.to_crystal_system : Crystal system of space groups.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skxrd.metrics import CrystalSystemConfusionDisplay
    >>> y_true = [225, 229, 194, 62]                  # space-group numbers
    >>> y_pred = ["cubic", "tetragonal", "hexagonal", "orthorhombic"]
    >>> display = CrystalSystemConfusionDisplay.from_predictions(y_true, y_pred)
    >>> display.display_labels_
    ['orthorhombic', 'tetragonal', 'hexagonal', 'cubic']
    >>> display.confusion_matrix_[-1].tolist(), display.accuracy_
    ([0.0, 0.5, 0.0, 0.5], 0.75)
    >>> plt.close(display.figure_)
    """

    def __init__(self, confusion_matrix, *, display_labels=None, accuracy=None):
        self.confusion_matrix = confusion_matrix
        self.display_labels = display_labels
        self.accuracy = accuracy

    def plot(
        self,
        ax=None,
        *,
        cmap="Blues",
        include_values=True,
        values_format=None,
        xticks_rotation=45,
        colorbar=True,
        title=None,
    ) -> CrystalSystemConfusionDisplay:
        """Draw the matrix with :class:`sklearn.metrics.ConfusionMatrixDisplay`.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        cmap : str or Colormap, default="Blues"
            Colormap of the matrix.
        include_values : bool, default=True
            Write the values in the cells.
        values_format : str, default=None
            Format of the values (scikit-learn's default when None).
        xticks_rotation : {"vertical", "horizontal"} or float, default=45
            Rotation of the predicted systems' labels.
        colorbar : bool, default=True
            Add a colorbar.
        title : str, default=None
            Title; None: ``"Crystal systems (accuracy 0.83)"``.

        Returns
        -------
        CrystalSystemConfusionDisplay
            ``self``, with the attributes set.

        Raises
        ------
        ValueError
            If the matrix is not square, holds NaN, infinite or negative
            values, or does not match ``display_labels``; if the labels are
            not crystal systems or repeat one; if ``accuracy`` is not a number
            in [0, 1].

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from skxrd.metrics import CrystalSystemConfusionDisplay
        >>> cm = np.array([[3, 1], [0, 4]])
        >>> display = CrystalSystemConfusionDisplay(
        ...     cm, display_labels=["hexagonal", "cubic"]
        ... ).plot(colorbar=False)
        >>> display.accuracy_, display.ax_.get_title()
        (0.875, 'Crystal systems (accuracy 0.88)')
        >>> plt.close(display.figure_)
        """
        from sklearn.metrics import ConfusionMatrixDisplay

        cm = np.asarray(self.confusion_matrix)
        if (
            cm.ndim != 2
            or cm.shape[0] != cm.shape[1]
            or cm.size == 0
            or cm.dtype.kind not in "biuf"
        ):
            raise ValueError(
                "confusion_matrix must be a non-empty square array of numbers, got "
                f"shape {cm.shape}"
            )
        # NaN cells would plot blank and make the accuracy NaN; negative ones
        # are neither counts nor fractions.
        bad = np.argwhere(~np.isfinite(cm) | (cm < 0))
        if bad.size:
            first = tuple(int(i) for i in bad[0])
            raise ValueError(
                "confusion_matrix must hold finite non-negative counts or "
                f"fractions; found {len(bad)} other value(s), the first "
                f"{plain_scalar(cm[first])!r} at index {first}"
            )
        labels = self.display_labels
        labels = list(CRYSTAL_SYSTEMS) if labels is None else [str(s) for s in labels]
        if len(labels) != len(cm):
            raise ValueError(
                f"display_labels must name the {len(cm)} systems of the matrix, got "
                f"{len(labels)} (all seven are assumed when None)"
            )
        unknown = [s for s in labels if s not in CRYSTAL_SYSTEMS]
        if unknown:
            raise ValueError(
                f"display_labels must be crystal systems ({', '.join(CRYSTAL_SYSTEMS)})"
                f", got {unknown}"
            )
        repeated = sorted({s for s in labels if labels.count(s) > 1})
        if repeated:
            # two rows of one system: the matrix would be read wrongly
            raise ValueError(
                f"display_labels must name each system once, got {repeated} twice "
                f"or more in {labels}"
            )
        if self.accuracy is None:
            total = float(cm.sum())
            accuracy = float(np.trace(cm)) / total if total > 0 else float("nan")
        else:
            accuracy = check_real(self.accuracy, "accuracy", minimum=0, maximum=1)
        display = ConfusionMatrixDisplay(cm, display_labels=labels).plot(
            ax=ax,
            cmap=cmap,
            include_values=include_values,
            values_format=values_format,
            xticks_rotation=xticks_rotation,
            colorbar=colorbar,
        )
        ax = display.ax_
        ax.set_xlabel("Predicted crystal system")
        ax.set_ylabel("True crystal system")
        ax.set_title(
            f"Crystal systems (accuracy {accuracy:.2f})" if title is None else title
        )
        self.confusion_matrix_ = cm
        self.display_labels_ = labels
        self.accuracy_ = accuracy
        self.im_ = display.im_
        self.text_ = display.text_
        self.ax_ = ax
        self.figure_ = display.figure_
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        *,
        normalize="true",
        ax=None,
        cmap="Blues",
        include_missing=False,
        values_format=None,
        colorbar=True,
        sample_weight=None,
    ) -> CrystalSystemConfusionDisplay:
        """Plot the crystal-system confusion matrix of predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels: crystal-system names, or space groups (numbers
            1-230 or symbols), mapped with
            :func:`~skxrd.crystal.to_crystal_system`.
        y_pred : array-like of shape (n_samples,)
            Predicted labels, of any of the same kinds (they need not be of
            the kind of ``y_true``).
        normalize : {"true", "pred", "all"} or None, default="true"
            Divide the counts by the row sums (recall per true system), the
            column sums, or the total; None keeps counts. Empty rows or
            columns give zeros.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        cmap : str or Colormap, default="Blues"
            Colormap of the matrix.
        include_missing : bool, default=False
            Keep the systems absent from both ``y_true`` and ``y_pred`` (all
            seven rows and columns).
        values_format : str, default=None
            Format of the values (scikit-learn's default when None).
        colorbar : bool, default=True
            Add a colorbar.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights: the matrix sums weights instead of
            counting samples (as scikit-learn's ``confusion_matrix``), and
            ``accuracy_`` is the weighted accuracy. A weight of 0 leaves a
            sample out.

        Returns
        -------
        CrystalSystemConfusionDisplay
            The display, plotted.

        Raises
        ------
        ValueError
            For labels that are neither crystal systems nor space groups
            (naming them), inputs of different lengths or no samples, a
            bad ``normalize``, and a ``sample_weight`` of another length,
            negative or non-finite, or all zero.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from skxrd.metrics import CrystalSystemConfusionDisplay
        >>> display = CrystalSystemConfusionDisplay.from_predictions(
        ...     [1, 2, 221], ["triclinic", "monoclinic", "Fm-3m"], normalize=None,
        ...     include_missing=True,
        ... )
        >>> len(display.display_labels_), int(display.confusion_matrix_.sum())
        (7, 3)
        >>> plt.close(display.figure_)
        """
        from sklearn.metrics import confusion_matrix

        if normalize not in ("true", "pred", "all", None):
            raise ValueError(
                f"normalize must be 'true', 'pred', 'all' or None, got {normalize!r}"
            )
        true = _crystal_systems(y_true, "y_true")
        pred = _crystal_systems(y_pred, "y_pred")
        if len(true) != len(pred):
            raise ValueError(
                f"y_true and y_pred must have the same length, got {len(true)} and "
                f"{len(pred)}"
            )
        if len(true) == 0:
            raise ValueError("y_true and y_pred hold no samples")
        if sample_weight is not None:
            sample_weight = _check_1d(sample_weight, "sample_weight", numeric=True)
            _check_same_length(y_true=true, sample_weight=sample_weight)
            sample_weight = _check_sample_weight(sample_weight, len(true))
        if include_missing:
            labels = list(CRYSTAL_SYSTEMS)
        else:
            present = set(true.tolist()) | set(pred.tolist())
            labels = [s for s in CRYSTAL_SYSTEMS if s in present]
        with warnings.catch_warnings():
            # one system only is a valid 1x1 matrix here: the labels are explicit
            warnings.filterwarnings("ignore", "A single label", UserWarning)
            cm = confusion_matrix(
                true,
                pred,
                labels=labels,
                normalize=normalize,
                sample_weight=sample_weight,
            )
        accuracy = float(np.average(true == pred, weights=sample_weight))
        display = cls(cm, display_labels=labels, accuracy=accuracy)
        return display.plot(
            ax=ax, cmap=cmap, values_format=values_format, colorbar=colorbar
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        normalize="true",
        ax=None,
        cmap="Blues",
        include_missing=False,
        values_format=None,
        colorbar=True,
        sample_weight=None,
    ) -> CrystalSystemConfusionDisplay:
        """Predict ``X`` and plot the crystal-system confusion matrix.

        Parameters
        ----------
        estimator : estimator
            A fitted classifier (or pipeline) predicting crystal systems or
            space groups.
        X : array-like or list of Pattern
            Its input.
        y : array-like of shape (n_samples,)
            True labels (see :meth:`from_predictions`).
        normalize, ax, cmap, include_missing, values_format, colorbar, sample_weight
            As in :meth:`from_predictions`.

        Returns
        -------
        CrystalSystemConfusionDisplay
            The display, plotted.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from skxrd.metrics import CrystalSystemConfusionDisplay
        >>> X, y = np.zeros((4, 2)), np.array([225, 225, 194, 2])
        >>> clf = DummyClassifier().fit(X, y)           # always space group 225
        >>> display = CrystalSystemConfusionDisplay.from_estimator(clf, X, y)
        >>> display.display_labels_, display.accuracy_
        (['triclinic', 'hexagonal', 'cubic'], 0.5)
        >>> plt.close(display.figure_)
        """
        return cls.from_predictions(
            y,
            estimator.predict(X),
            normalize=normalize,
            ax=ax,
            cmap=cmap,
            include_missing=include_missing,
            values_format=values_format,
            colorbar=colorbar,
            sample_weight=sample_weight,
        )
