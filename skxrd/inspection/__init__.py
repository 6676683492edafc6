"""Which parts of a pattern or image a deep classifier looks at.

Attribution maps for fitted skxrd classifiers, pipelines ending in one, and
plain :class:`torch.nn.Module` networks. Each function takes inputs ``X`` with
a sample axis and returns a map of the same shape, for the predicted class or
a chosen ``target``:

- :func:`saliency_map`: absolute input gradient of the class logit;
- :func:`integrated_gradients`: path-integrated gradients from a baseline,
  summing to the change of the logit;
- :func:`occlusion_map`: drop of the class probability when a sliding window
  is blanked out;
- :func:`guided_backprop`: gradients passed only where positive through every
  ReLU;
- :func:`attentive_response_map`: Grad-CAM of a convolutional layer, each
  unit placed at the centre of its receptive field on the input grid (the
  attentive response maps of 2D fingerprint classifiers, and class
  activation maps over 2θ for patterns).

Displays, in scikit-learn's style (``plot``, ``from_estimator``...):

- :class:`AttributionDisplay`: a map over the pattern (along 2θ) or the
  image it explains;
- :class:`SaliencyDisplay`: a map over the 2θ axis of a pattern classifier
  (or a pipeline fed with :class:`~skxrd.io.Pattern` objects), with the most
  probable classes;
- :class:`PatternDisplay`: patterns stacked on a common 2θ (at one
  wavelength) or Q axis, with peak ticks such as reference lines;

The confusion matrix over the crystal systems,
:class:`~skxrd.metrics.CrystalSystemConfusionDisplay`, is in
:mod:`skxrd.metrics` beside the other scores (as scikit-learn's
``ConfusionMatrixDisplay`` is in ``sklearn.metrics``).

The networks run in eval mode on their own device; their modes are restored,
their parameters untouched and no hooks are left behind.

Examples
--------
>>> import numpy as np
>>> import torch
>>> from skxrd.inspection import saliency_map
>>> from skxrd.models import CNN1D
>>> _ = torch.manual_seed(0)
>>> model = CNN1D(n_classes=3, channels=(4,), pooled_length=4)
>>> X = np.random.default_rng(0).random((2, 64))
>>> saliency_map(model, X).shape
(2, 64)
>>> model.training                      # the mode is restored
True
"""

from ._attribution import (
    attentive_response_map,
    guided_backprop,
    integrated_gradients,
    occlusion_map,
    saliency_map,
)
from ._display import AttributionDisplay
from ._pattern_display import PatternDisplay
from ._saliency_display import SaliencyDisplay

__all__ = [
    "AttributionDisplay",
    "PatternDisplay",
    "SaliencyDisplay",
    "attentive_response_map",
    "guided_backprop",
    "integrated_gradients",
    "occlusion_map",
    "saliency_map",
]


def __getattr__(name):
    # moved to skxrd.metrics; the old import keeps working, with a warning
    if name == "CrystalSystemConfusionDisplay":
        import warnings

        from ..metrics import CrystalSystemConfusionDisplay

        warnings.warn(
            "skxrd.inspection.CrystalSystemConfusionDisplay moved to "
            "skxrd.metrics.CrystalSystemConfusionDisplay; import it from there",
            FutureWarning,
            stacklevel=2,
        )
        return CrystalSystemConfusionDisplay
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
