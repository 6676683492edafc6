"""Array-to-array transformers for diffraction patterns.

Each works on ``X`` of shape (n_samples, n_points), one pattern per row:
resampling onto a model's grid and wavelength (:class:`PatternResampler`, which
also takes :class:`~skxrd.io.Pattern` objects), Kα2 stripping
(:class:`Kalpha2Stripper`, arrays or patterns), cropping, background
subtraction, smoothing and normalization. :class:`SpotMeshShaper` works on
single-crystal zone-axis spot images instead, of shape (n_samples, n_axes, H,
W): it joins neighbouring spots by a line mesh and builds one colour image per
axis.
"""

from ..utils._lazy import lazy_exports

# imported when first used: the light modules (``_core``, ``_screen``) of a
# prediction must not import scikit-learn through their siblings
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BackgroundSubtractor": "._background",
        "rolling_ball_background": "._core",
        "snip_background": "._core",
        "PatternCropper": "._crop",
        "Kalpha2Stripper": "._kalpha2",
        "PatternNormalizer": "._normalize",
        "PatternResampler": "._resample",
        "screen_patterns": "._screen",
        "SpotMeshShaper": "._shaping",
        "PatternSmoother": "._smooth",
    },
)

__all__ = [
    "BackgroundSubtractor",
    "Kalpha2Stripper",
    "PatternCropper",
    "PatternNormalizer",
    "PatternResampler",
    "PatternSmoother",
    "SpotMeshShaper",
    "rolling_ball_background",
    "screen_patterns",
    "snip_background",
]
