"""Attribution maps: which points of a pattern (pixels of an image) drive a prediction.

Every function takes a fitted skxrd estimator, a fitted
:class:`~sklearn.pipeline.Pipeline` ending in one, or a plain
:class:`torch.nn.Module`, and returns a map of the shape of ``X``.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
import numbers
import warnings
import weakref

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..estimators._core import find_network, network_outputs
from ..estimators._net import net_parts
from ..io._pattern import as_patterns
from ..utils._torch import host_array, kept_modes
from ..utils._validation import check_bool, check_int, check_real
from ..utils._warnings import caller_stacklevel

__all__ = [
    "attentive_response_map",
    "guided_backprop",
    "integrated_gradients",
    "occlusion_map",
    "saliency_map",
]

# at most this many occluded copies of the input go through one forward pass
_OCCLUSION_BATCH = 256


# --------------------------------------------------------------------------- #
# Models and inputs
# --------------------------------------------------------------------------- #
class _Inputs:
    """The network, its classes, and ``X`` in the layout the network takes.

    ``x`` has the network's layout (e.g. ``(n, S, C, H, W)`` for an image
    estimator given flattened images); ``shape`` is the shape of ``X`` as
    given (after a pipeline's transformers), the shape of the returned maps.
    """

    def __init__(self, module, classes, x, shape, estimator=None, X=None):
        self.module = module
        self.classes = classes
        # which classes the network has an output for (a search-match's own
        # classes have none), as the estimator's logit module records it
        self.has_output = (
            None if classes is None else network_outputs(module, len(classes))
        )
        self.x = x
        self.shape = shape
        self.device, self.dtype = _device_dtype(module)
        self.estimator = estimator
        self.X = X  # as given to the estimator (after a pipeline's transformers)
        self.answers = None  # the estimator's predictions, when target=None
        self.images = False  # an image estimator: predict takes X flattened

    def target_indices(self, target, logits) -> torch.Tensor:
        """:func:`_target_indices`; for ``target=None``, those of ``answers``."""
        if target is None and self.answers is not None:
            return _answer_indices(self.answers, self.classes, logits, self.has_output)
        idx = _target_indices(target, self.classes, logits)
        if target is not None and self.has_output is not None:
            _warn_no_output(idx, self.classes, self.has_output)
        return idx

    def tensor(self) -> torch.Tensor:
        # a copy: a model that works in place (ReLU(inplace=True) first)
        # must not change ``x``, which is plotted and predicted on
        return torch.tensor(self.x, dtype=self.dtype, device=self.device)

    def output(self, attribution: torch.Tensor) -> np.ndarray:
        # contiguous: a map spread over channels (expand_as) has stride 0
        return np.ascontiguousarray(_numpy(attribution).reshape(self.shape))

    def labels(self, indices: torch.Tensor) -> np.ndarray:
        idx = indices.cpu().numpy()
        return idx if self.classes is None else np.asarray(self.classes)[idx]


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor as an array; bfloat16, which numpy lacks, as float32."""
    return host_array(t)


def _as_array(X):
    """``X`` as numpy reads it; a tensor on a GPU or one that requires grad
    (which numpy refuses) through :func:`_numpy`: the maps run the network
    on its own device from a copy of the values."""
    return _numpy(X) if isinstance(X, torch.Tensor) else np.asarray(X)


def _device_dtype(module: nn.Module):
    """Device and floating dtype of the module's first float parameter or buffer."""
    for t in itertools.chain(module.parameters(), module.buffers()):
        if t.is_floating_point():
            return t.device, t.dtype
    return torch.device("cpu"), torch.float32


def _unwrap(model):
    """(torch module, estimator or None, the pipeline's transformers)."""
    steps = []
    where = "model"
    if isinstance(model, Pipeline):
        where = f"the last step of the Pipeline ({model.steps[-1][0]!r})"
        for _, step in model.steps[:-1]:
            if step is not None and not isinstance(step, str):  # "passthrough"
                steps.append(step)
        model = model.steps[-1][1]
    if isinstance(model, nn.Module) and not steps:
        return model, None, steps
    # the lookup of network_logits: a wrapper's _logit_module (a
    # CoarseLabelClassifier's space-group network per coarse class...), else
    # net_.module_
    found = find_network(model) if hasattr(model, "classes_") else None
    if found is not None:
        # The temperature is not applied: the maps of a network classifier
        # explain its logits as trained, so that calibrating it
        # (calibrate_temperature) leaves its maps as they were; divided by the
        # temperature, the gradient maps would scale by 1 / T and occlusion's
        # probabilities change. A wrapper's module is tempered already (1.0).
        module, _ = found
        return module, model, steps
    # what is wrong with it: not fitted, or fitted without a network (a
    # search-match, a DummyClassifier) whose gradients could be followed
    if hasattr(model, "fit") and not hasattr(model, "classes_"):
        why = f"{where} is an unfitted {type(model).__name__} (no classes_): fit it"
    elif hasattr(model, "classes_"):
        why = (
            f"{where} is a {type(model).__name__}, with no network to take "
            "gradients through (no net_.module_, nor a wrapper's _logit_module)"
        )
    else:
        why = f"got {type(model).__name__}"
    raise ValueError(
        "model must be a fitted skxrd estimator (with net_.module_ and classes_), "
        f"a fitted Pipeline ending in one, or a torch.nn.Module; {why}"
    )


def _check_array(X, what="X") -> np.ndarray:
    """A finite numeric array with a sample axis and at least one sample."""
    try:
        arr = _as_array(X)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be a numeric array, got {type(X).__name__}")
    if arr.ndim < 2 or arr.shape[0] == 0 or arr.size == 0:
        raise ValueError(
            f"{what} must have a sample axis first, (n_samples, ...), with at "
            f"least one sample and one feature; got shape {arr.shape}"
        )
    arr = np.array(arr, dtype=np.float64)  # a copy: X is never modified
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinity")
    return arr


def _squeezed(shape):
    return [n for n in shape if n != 1]


def _inner_estimators(estimator):
    """The estimator and those inside it (``estimator_``, ``estimators_``)."""
    todo, seen = [estimator], []
    while todo and len(seen) < 256:  # a cycle would never end
        est = todo.pop(0)
        if est is None or any(est is e for e in seen):
            continue
        seen.append(est)
        todo.append(getattr(est, "estimator_", None))
        todo.extend(getattr(est, "estimators_", None) or ())
    return seen


def _sample_shape(estimator):
    """``input_shape_`` of an image estimator, or None for 1D patterns.

    A wrapper (ensemble, coarse labels, search-match...) has none of its own:
    it is that of the network estimator(s) inside, which all share it.
    """
    for est in _inner_estimators(estimator):
        shape = getattr(est, "input_shape_", None)
        if shape is not None:
            return shape
    return None


def _prepare(model, X, one_sample=False) -> _Inputs:
    """Check ``X``, apply a pipeline's transformers, reshape for the network.

    ``one_sample``: ``X`` is one sample given without a sample axis (by a
    display's ``from_estimator``) and put in a batch of one: a wrong shape is
    said as that of the sample, not of the batch of one.
    """
    module, estimator, steps = _unwrap(model)
    # Pattern objects are what a pipeline starting with a PatternResampler
    # takes (the pretrained models): its transformers turn them into arrays,
    # which are checked below; checked first, they were "not numeric"
    if not steps or as_patterns(X, "X", error=ValueError) is None:
        X = _check_array(X)
    for step in steps:
        X = _check_array(step.transform(X), "X after the pipeline's transformers")
    shape = X.shape
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is None:
        classes = getattr(estimator, "classes_", None)
        return _Inputs(module, classes, X, shape, estimator, X)
    sample = _sample_shape(estimator)
    images = sample is not None
    if sample is None:  # 1D patterns
        if X.ndim != 2 or X.shape[1] != n_features:
            if one_sample:
                raise ValueError(
                    f"X must be one pattern of shape ({n_features},) for this "
                    f"estimator, without a sample axis; got shape {shape[1:]}"
                )
            raise ValueError(
                f"X must have shape (n_samples, {n_features}) for this estimator, "
                f"got {shape}"
            )
        sample = shape[1:]
    else:  # images: flattened, or with the fitted sample shape
        sample = tuple(int(n) for n in sample)
        flat = X.ndim == 2 and X.shape[1] == n_features
        if not (flat or (X.ndim > 2 and _squeezed(shape[1:]) == _squeezed(sample))):
            if one_sample:
                raise ValueError(
                    f"X must be one sample of shape {sample} (or flattened to "
                    f"{n_features} values) for this estimator, without a sample "
                    f"axis; got shape {shape[1:]}"
                )
            raise ValueError(
                f"X must hold samples of shape {sample} (or flattened to "
                f"{n_features} values) for this estimator, got shape {shape}"
            )
    x = X.reshape((len(X), *sample))
    inp = _Inputs(module, estimator.classes_, x, shape, estimator, X)
    inp.images = images
    return inp


def _logits(module, x, shape=None) -> torch.Tensor:
    """Logits ``(n, n_classes)``; with ``shape``, errors of the model name ``X``."""
    # a copy (not a leaf): a first layer that works in place (ReLU(inplace=True))
    # may then neither change x nor fail on a leaf that requires grad
    x_in = x.clone()
    if shape is None:
        out = module(x_in)
    else:
        try:
            out = module(x_in)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise ValueError(
                f"X of shape {shape} does not fit the model: {exc}"
            ) from exc
    if isinstance(out, tuple | list):  # (logits, confidence) of a confidence head
        out = out[0]
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or len(out) != len(x):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"the model must return logits of shape (n_samples, n_classes), got {got}"
        )
    return out


def _target_indices(target, classes, logits) -> torch.Tensor:
    """Class indices ``(n,)`` of ``target`` (None: the predicted classes)."""
    n, n_classes = logits.shape
    if target is None:
        return logits.detach().argmax(1)
    values = np.asarray(target)
    if values.ndim > 1 or (values.ndim == 1 and len(values) != n):
        raise ValueError(
            f"target must be one class or one per sample ({n}), got shape "
            f"{values.shape}"
        )
    items = values.reshape(-1).tolist()
    if classes is not None:
        lookup = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
        idx = []
        for t in items:
            try:
                idx.append(lookup[t])
            except (KeyError, TypeError):
                known = np.asarray(classes).tolist()
                more = ", ..." if len(known) > 10 else ""
                known = ", ".join(repr(c) for c in known[:10])
                raise ValueError(
                    f"target {t!r} is not a class of the model (classes_: "
                    f"[{known}{more}])"
                ) from None
    else:
        for t in items:
            if (
                isinstance(t, bool)
                or not isinstance(t, numbers.Integral)
                or not 0 <= t < n_classes
            ):
                raise ValueError(
                    f"target must be a class index in [0, {n_classes}) for a plain "
                    f"torch module, got {t!r}"
                )
        idx = items
    idx = np.broadcast_to(np.asarray(idx, dtype=np.int64), (n,))
    return torch.as_tensor(idx.copy(), device=logits.device)


def _answer_indices(answers, classes, logits, has_output=None) -> torch.Tensor:
    """Class indices ``(n,)`` of the estimator's answers.

    An answer that the network has no output for (``has_output`` false: a
    class that only a search-match gives, whose logit is a constant and its
    map zero everywhere; or no class of the model at all) is replaced by the
    network's most probable class, with one warning. None: every class has
    an output.
    """
    z = logits.detach()
    classes = np.asarray(classes).tolist()
    if has_output is None or not np.any(has_output):
        has_output = np.ones(len(classes), dtype=bool)
    lookup = {c: i for i, c in enumerate(classes)}
    # the most probable of the classes with an output: a constant column is
    # never the network's answer, whatever the scale of its logits
    mask = torch.as_tensor(np.asarray(has_output), device=z.device)
    best = z.masked_fill(~mask, -torch.inf).argmax(1).cpu().numpy()
    idx, replaced = best.copy(), []
    for i, label in enumerate(np.asarray(answers).tolist()):
        j = lookup.get(label)
        if j is not None and has_output[j]:
            idx[i] = j
        else:
            replaced.append(f"sample {i}: {label!r} -> {classes[best[i]]!r}")
    if replaced:
        more = f", ... ({len(replaced)} samples)" if len(replaced) > 5 else ""
        warnings.warn(
            "the model's answer is a class its network has no output for (a "
            "search-match's answer); the map explains the network's most "
            f"probable class instead: {', '.join(replaced[:5])}{more}",
            UserWarning,
            stacklevel=caller_stacklevel(),  # the caller of saliency_map and the like
        )
    return torch.as_tensor(idx, device=logits.device)


def _warn_no_output(idx, classes, has_output) -> None:
    """Warn when a ``target`` asked for is a class the network has no output
    for (a search-match's own class): its map is zero everywhere, which would
    otherwise read as "no peak matters"."""
    asked = np.unique(idx.cpu().numpy())
    missing = [np.asarray(classes)[i].item() for i in asked if not has_output[i]]
    if missing:
        warnings.warn(
            f"target {', '.join(repr(c) for c in missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}: the network has no output "
            "for this class (only the search-match gives it), so its map is "
            "zero everywhere",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


@contextlib.contextmanager
def _evaluating(module: nn.Module):
    """Eval mode with gradients enabled; every module's mode restored afterwards."""
    with kept_modes(module.modules()):
        module.eval()
        with torch.enable_grad():
            yield


def _estimator_modules(inp: _Inputs):
    """The torch modules of the network and of every skorch net inside the
    estimator (its module and criterion), which ``predict`` puts in eval."""
    modules = list(inp.module.modules())
    for est in _inner_estimators(inp.estimator):
        for part in net_parts(getattr(est, "net_", None)):
            modules.extend(part.modules())
    return modules


def _selected(logits, idx) -> torch.Tensor:
    """Sum over samples of the target logits (samples are independent in eval)."""
    return logits.gather(1, idx[:, None]).sum()


def _input_grad(module, x, idx) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(_selected(_logits(module, x), idx), x)
    return grad


def _model_dims(module: nn.Module) -> int:
    """2 for a network of 2D convolutions, else 1."""
    return 2 if any(isinstance(m, nn.Conv2d) for m in module.modules()) else 1


# --------------------------------------------------------------------------- #
# The methods, on prepared inputs: (attribution tensor, target indices)
# --------------------------------------------------------------------------- #
def _saliency(inp: _Inputs, target):
    module, x = inp.module, inp.tensor()
    with _evaluating(module):
        x = x.requires_grad_(True)
        logits = _logits(module, x, inp.shape)
        idx = inp.target_indices(target, logits)
        (grad,) = torch.autograd.grad(_selected(logits, idx), x)
    return grad.abs(), idx


def _check_baseline(baseline, inp: _Inputs) -> torch.Tensor:
    x = inp.tensor()
    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        return torch.full_like(x, check_real(baseline, "baseline"))
    arr = np.asarray(baseline)
    if arr.dtype.kind not in "biuf" or arr.shape not in (inp.shape, inp.shape[1:]):
        raise ValueError(
            f"baseline must be None, a number, or an array of the shape of X "
            f"{inp.shape} or of one sample {inp.shape[1:]}; got {arr.dtype} "
            f"values of shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError("baseline contains NaN or infinity")
    arr = np.array(np.broadcast_to(arr, inp.shape), dtype=np.float64)
    arr = arr.reshape(inp.x.shape)
    return torch.as_tensor(arr, dtype=inp.dtype, device=inp.device)


def _integrated_gradients(
    inp: _Inputs, target, baseline=None, n_steps=32, verbose=False
):
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    verbose = check_bool(verbose, "verbose")
    module, x = inp.module, inp.tensor()
    base = _check_baseline(baseline, inp)
    # Gauss-Legendre quadrature of the path integral over alpha in [0, 1]
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas, weights = (nodes + 1) / 2, weights / 2
    with _evaluating(module):
        with torch.no_grad():
            logits = _logits(module, x, inp.shape)
        idx = inp.target_indices(target, logits)
        diff = x - base
        total = torch.zeros_like(x)
        # one pass over all of X per node: minutes for many patterns on a CPU
        nodes = tqdm(
            list(zip(alphas, weights)),
            disable=not verbose,
            desc="integrated gradients",
            unit="step",
        )
        for alpha, weight in nodes:
            total += float(weight) * _input_grad(
                module, base + float(alpha) * diff, idx
            )
    return total * diff, idx


def _as_sizes(value, what, n_axes):
    values = (value,) * n_axes if isinstance(value, numbers.Integral) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if values is None or len(values) != n_axes:
        raise ValueError(
            f"{what} must be an integer or a tuple of {n_axes} integers, got {value!r}"
        )
    return tuple(check_int(v, what, minimum=1) for v in values)


def _window_starts(size, window, stride):
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:  # cover the end
        starts.append(size - window)
    return starts


def _occlusion(inp: _Inputs, target, window=None, stride=None, fill=0.0, verbose=False):
    module, x = inp.module, inp.tensor()
    fill = check_real(fill, "fill")
    verbose = check_bool(verbose, "verbose")
    if window is None or isinstance(window, numbers.Integral):
        n_axes = _model_dims(module)
    else:
        n_axes = len(window) if hasattr(window, "__len__") else 1
    if not 1 <= n_axes <= x.ndim - 1:
        raise ValueError(
            f"window must span 1 to {x.ndim - 1} axes of X, got {window!r}"
        )
    sizes = tuple(x.shape[-n_axes:])
    if window is None:
        window = tuple(max(1, math.ceil(n / 16)) for n in sizes)
    window = _as_sizes(window, "window", n_axes)
    if any(w > n for w, n in zip(window, sizes)):
        raise ValueError(
            f"window {window} is larger than the input's last axes {sizes}"
        )
    if stride is None:
        stride = tuple(max(1, w // 2) for w in window)
    stride = _as_sizes(stride, "stride", n_axes)
    windows = list(
        itertools.product(
            *(
                [slice(s, s + w) for s in _window_starts(n, w, st)]
                for n, w, st in zip(sizes, window, stride)
            )
        )
    )
    n = len(x)
    with _evaluating(module), torch.no_grad():
        logits = _logits(module, x, inp.shape)
        idx = inp.target_indices(target, logits)
        p0 = torch.softmax(logits.float(), 1).gather(1, idx[:, None])[:, 0]
        total = torch.zeros(n, *sizes, dtype=torch.float32, device=x.device)
        count = torch.zeros(sizes, dtype=torch.float32, device=x.device)
        chunk = max(1, _OCCLUSION_BATCH // n)
        # a forward pass of up to _OCCLUSION_BATCH copies per step: minutes
        # for many patterns on a CPU
        starts = tqdm(
            range(0, len(windows), chunk),
            disable=not verbose,
            desc="occlusion",
            unit="batch",
        )
        for start in starts:
            part = windows[start : start + chunk]
            xs = x.unsqueeze(0).repeat(len(part), *([1] * x.ndim))
            for j, win in enumerate(part):
                xs[(j, ..., *win)] = fill
            out = _logits(module, xs.flatten(0, 1))
            p = torch.softmax(out.float(), 1).gather(1, idx.repeat(len(part))[:, None])
            drop = p0 - p.view(len(part), n)
            for j, win in enumerate(part):
                total[(slice(None), *win)] += drop[j].view(n, *([1] * n_axes))
                count[win] += 1
    attribution = total / count.clamp_min(1)  # 0 where no window reaches
    spread = (n,) + (1,) * (x.ndim - 1 - n_axes) + sizes
    return attribution.view(spread).expand_as(x).to(x.dtype), idx


class _PositiveGrad(torch.autograd.Function):
    """Identity whose backward pass keeps only the positive gradients."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


def _guided_relu_hook(module, args, output):
    # ReLU's own backward masks x <= 0; this masks the negative gradients
    return _PositiveGrad.apply(output)


def _guided_backprop(inp: _Inputs, target):
    module, x = inp.module, inp.tensor()
    relus = [m for m in module.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        warnings.warn(
            "the model has no torch.nn.ReLU module: guided back-propagation is "
            "the plain gradient",
            UserWarning,
            stacklevel=caller_stacklevel(),  # the caller of guided_backprop
        )
    handles = [m.register_forward_hook(_guided_relu_hook) for m in relus]
    try:
        with _evaluating(module):
            x = x.requires_grad_(True)
            logits = _logits(module, x, inp.shape)
            idx = inp.target_indices(target, logits)
            (grad,) = torch.autograd.grad(_selected(logits, idx), x)
    finally:
        for handle in handles:
            handle.remove()
    return grad, idx


def _last_conv(module, x, shape) -> nn.Module:
    """The last ``nn.Conv1d``/``nn.Conv2d`` to run in a forward pass of ``x``."""
    order = []
    convs = [m for m in module.modules() if isinstance(m, nn.Conv1d | nn.Conv2d)]
    handles = [
        m.register_forward_hook(lambda m, args, out: order.append(m)) for m in convs
    ]
    try:
        with torch.no_grad():
            _logits(module, x, shape)
    finally:
        for handle in handles:
            handle.remove()
    if not order:
        raise ValueError(
            "the model runs no torch.nn.Conv1d or torch.nn.Conv2d layer; pass layer="
        )
    return order[-1]


def _check_layer(module, layer) -> nn.Module:
    if isinstance(layer, str):
        named = dict(module.named_modules())
        if layer not in named:
            raise ValueError(
                f"layer {layer!r} is not the name of a module of the model"
            )
        return named[layer]
    if isinstance(layer, nn.Module) and any(m is layer for m in module.modules()):
        return layer
    raise ValueError(
        f"layer must be None, a submodule of the model or its name, got {layer!r}"
    )


# --------------------------------------------------------------------------- #
# Where the units of a layer look: receptive-field centres on the input grid
# --------------------------------------------------------------------------- #
class _ProbeDone(Exception):
    """Raised by the probe's hook: the forward pass past the layer is not needed."""


class _NoCentres(Exception):
    """The probe could not place the layer's units; the reason is the message."""


# per layer: {(model type, layer name, stream, sample shape, calls): centres per
# axis}. The centres depend on the architecture only (not on the weights or the
# data). Keyed by the layer: an estimator's wrapper module (the logits of a
# coarse-label or ensemble classifier) is made anew for every map.
_CENTRES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# units probed in one batch (each a copy of the input, at most _PROBE_POINTS
# input values in all: the copies' float64 activations and their graph), and
# the largest input a probe lengthens to
_PROBE_BATCH = 32
_PROBE_POINTS = 2**18
_PROBE_MAX_POINTS = 2**22
_MAX_POOLS = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d}
_NORMS = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.GroupNorm,
    nn.LayerNorm,
)


def _geometry_copy(module: nn.Module) -> nn.Module:
    """A float64 CPU copy whose units all respond, evenly, to their whole field.

    Every convolution and linear layer gets equal positive weights and no bias,
    normalisations become identities and max pools average pools of the same
    window: on a positive input, the gradient of a unit with respect to the
    input is then positive exactly on the unit's receptive field and (away
    from the input's ends) symmetric about its centre, whatever the trained
    weights, which can be lopsided, dead or cancel.
    """
    probe = copy.deepcopy(module).to(device="cpu", dtype=torch.float64)
    for parent in list(probe.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, _NORMS):
                setattr(parent, name, nn.Identity())
            elif (
                type(child) in _MAX_POOLS
                and not child.return_indices
                and all(d == 1 for d in np.atleast_1d(child.dilation))
            ):
                setattr(
                    parent,
                    name,
                    _MAX_POOLS[type(child)](
                        child.kernel_size,
                        child.stride,
                        child.padding,
                        ceil_mode=child.ceil_mode,
                        count_include_pad=False,
                    ),
                )
    with torch.no_grad():
        for m in probe.modules():
            if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
                m.weight.fill_(1.0 / max(1, m.weight[0].numel()))
                if m.bias is not None:
                    m.bias.zero_()
    probe.requires_grad_(False)
    return probe.eval()


def _profiles(probe, name, n_calls, shape, stream, axis, n_axes, units):
    """Gradient of the probe's layer units ``units`` (indices along ``axis``),
    summed over channels and the other axes, with respect to a constant input
    of per-sample ``shape``: ``(len(units), n_points)``, and the layer's number
    of units along the axis."""
    layer = dict(probe.named_modules())[name]
    out = []
    n_units = None
    batch = max(1, min(_PROBE_BATCH, _PROBE_POINTS // max(1, math.prod(shape))))
    for start in range(0, len(units), batch):
        chunk = units[start : start + batch]
        store = {"calls": 0}

        def hook(m, args, output, store=store):
            if not torch.is_grad_enabled():  # as in _grad_cam: not counted
                return
            store["calls"] += 1
            if store["calls"] == n_calls:
                store["act"] = output
                raise _ProbeDone

        handle = layer.register_forward_hook(hook)
        x = torch.ones((len(chunk), *shape), dtype=torch.float64, requires_grad=True)
        try:
            with torch.enable_grad():
                probe(x.clone())  # a clone: a first in-place layer needs a non-leaf
        except _ProbeDone:
            pass
        finally:
            handle.remove()
        act = store.get("act")
        if not isinstance(act, torch.Tensor) or act.ndim != n_axes + 2:
            raise _NoCentres("the layer did not run as in the model's forward pass")
        n_units = act.shape[2 + axis]
        if max(chunk) >= n_units:
            raise _NoCentres("its output changed size between passes")
        # one unit per copy: copy b selects unit chunk[b] along the axis
        mask = torch.zeros(act.shape[0], 1, n_units, dtype=act.dtype)
        mask[torch.arange(len(chunk)), 0, torch.as_tensor(chunk)] = 1.0
        mask = mask.view(
            act.shape[0], 1, *(n_units if a == axis else 1 for a in range(n_axes))
        )
        (grad,) = torch.autograd.grad((act * mask).sum(), x)
        if stream is not None:
            grad = grad[:, stream]
        grad = grad.reshape(len(chunk), -1, *grad.shape[grad.ndim - n_axes :])
        keep = grad.ndim - n_axes + axis
        dims = [d for d in range(1, grad.ndim) if d != keep]
        out.append(grad.abs().sum(dims))
    return torch.cat(out).numpy(), n_units


def _support(profiles):
    """(centre of mass, first, last point with a response) of each profile;
    NaN, -1, -1 for a unit that looks at no point of the input."""
    mass = profiles.sum(1)
    points = np.arange(profiles.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        com = np.where(mass > 0, profiles @ points / mass, np.nan)
    hit = profiles > 0
    first = np.where(mass > 0, hit.argmax(1), -1)
    last = np.where(mass > 0, profiles.shape[1] - 1 - hit[:, ::-1].argmax(1), -1)
    return com, first, last


def _seen(first, last):
    """First and last input point that any of the units looks at (with the
    end units among them): where the input's ends cut the fields off. An
    even kernel with a stride can leave the last points unseen."""
    looks = first >= 0
    if not looks.any():
        return 0, -1
    return first[looks].min(), last[looks].max()


def _line(com, first, last, units):
    """(intercept, slope, left and right reach) from the units whose field lies
    inside the part of the input seen, or None where fewer than two do."""
    lo, hi = _seen(first, last)
    inside = (first > lo) & (last < hi)
    if inside.sum() < 2:
        return None
    j, c = np.asarray(units, dtype=np.float64)[inside], com[inside]
    slope, intercept = np.polyfit(j, c, 1)
    left, right = first[inside] - c, last[inside] - c
    tol = 1e-6 * max(1.0, hi - lo)
    fits = np.abs(intercept + slope * j - c).max() <= tol
    if not (fits and np.ptp(left) <= tol and np.ptp(right) <= tol and slope != 0):
        return None
    return intercept, slope, left[0], right[0]


def _agrees(line, units, first, last) -> bool:
    """Whether the measured fields of ``units`` (with the end units among them),
    cut off by the ends of the part of the input seen, are those the line
    puts there."""
    intercept, slope, left, right = line
    seen_lo, seen_hi = _seen(first, last)
    centres = intercept + slope * np.asarray(units, dtype=np.float64)
    lo, hi = np.round(centres + left), np.round(centres + right)
    outside = (hi < seen_lo) | (lo > seen_hi)  # fields wholly in the padding
    lo, hi = np.maximum(seen_lo, lo), np.minimum(seen_hi, hi)
    return bool(((lo == first) & (hi == last) | outside & (first < 0)).all())


def _axis_centres(probe, name, n_calls, shape, stream, axis, n_axes):
    """Centres, in points of the input, of the layer's units along ``axis``.

    Convolutions and pools place unit ``j`` at ``a + s j`` (``s`` the
    layer's total stride), the same line for any input length. The line is
    read off units whose field lies inside the input, on a longer input where
    none does; the measured fields (cut off by the input's ends) of the four
    units at either end and of eight spread between must agree with it.
    Otherwise each unit is placed at the centre of mass of its measured field.
    """
    spatial = len(shape) - n_axes + axis  # the axis in the per-sample shape

    def fields(units, shape=shape):
        profiles, n = _profiles(
            probe, name, n_calls, shape, stream, axis, n_axes, units
        )
        return (*_support(profiles), n)

    def ends_and(units, n):
        # the end units too: they show which part of the input is seen
        return sorted({*range(min(4, n)), *range(max(0, n - 4), n), *units})

    n_units = fields([0])[-1]
    # a probe runs a copy of the input per unit: not all of them at first
    sample = ends_and(np.linspace(0, n_units - 1, 8).round().astype(int), n_units)
    com, first, last, _ = fields(sample)
    line = _line(com, first, last, sample)
    length = shape[spatial]
    while line is None and length * 2 * math.prod(shape) // shape[spatial] <= (
        _PROBE_MAX_POINTS
    ):
        length *= 2
        longer = (*shape[:spatial], length, *shape[spatial + 1 :])
        try:
            n_long = fields([0], longer)[-1]
        except _NoCentres:
            break
        if n_long <= n_units:  # not a stack of strided windows
            break
        mid = ends_and(
            range(max(0, n_long // 2 - 2), min(n_long, n_long // 2 + 2)), n_long
        )
        line = _line(*fields(mid, longer)[:3], mid)
    if line is not None and _agrees(line, sample, first, last):
        return line[0] + line[1] * np.arange(n_units)
    if len(sample) < n_units:
        com, first, last, _ = fields(list(range(n_units)))
    if np.isnan(com).any():
        raise _NoCentres("some of its units look at no point of the input")
    if n_units > 1 and not (np.diff(np.sort(com)) > 0).all():
        raise _NoCentres("several of its units look at one place")
    return com


def _unit_centres(module, layer, n_calls, shape, stream, n_axes):
    """Receptive-field centres of ``layer``'s units along each of the last
    ``n_axes`` input axes (a tuple of arrays), computed once per model, layer
    and input shape, or None (with a warning) where they cannot be found."""
    name = next((n for n, m in module.named_modules() if m is layer), None)
    key = (type(module), name, stream, tuple(shape), n_calls)
    try:
        cache = _CENTRES.setdefault(layer, {})
    except TypeError:  # a module that cannot be weakly referenced
        cache = {}
    if key not in cache:
        try:
            if name is None:
                raise _NoCentres("the layer is not a submodule of the model")
            cache[key] = _probed_centres(module, name, n_calls, shape, stream, n_axes)
        except Exception as exc:  # any model: the even stretch, said so
            warnings.warn(
                f"could not locate the receptive fields of layer {name!r} ({exc}); "
                "its map is stretched evenly over the input instead",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
            cache[key] = None
    return cache[key]


def _probed_centres(module, name, n_calls, shape, stream, n_axes):
    """:func:`_axis_centres` along each axis, probed on the whole model, else
    on the outermost of the layer's enclosing modules that takes the input.

    A union's logit module checks the input in its forward pass (its router
    predicts with the members, which take their own length only), so that
    its probe fails where a longer input is needed; the member network that
    holds the layer takes the input as it is. The first error is raised when
    no module will do.
    """
    parts = name.split(".")
    # multi-stream: the stream's module takes one stream, not the input
    roots = (
        [""] if stream is not None else [".".join(parts[:k]) for k in range(len(parts))]
    )
    named = dict(module.named_modules())
    first = None
    for root in roots:
        try:
            probe = _geometry_copy(named[root])
            inner = name[len(root) + 1 :] if root else name
            return tuple(
                _axis_centres(probe, inner, n_calls, shape, stream, axis, n_axes)
                for axis in range(n_axes)
            )
        except Exception as exc:  # noqa: BLE001 - the next enclosing module
            first = first or exc
    raise first


def _interpolation_matrix(centres, n_points, dtype, device) -> torch.Tensor:
    """``(n_points, n_units)``: linear interpolation between the units' centres
    (in any order), the end units' values held beyond them."""
    order = np.argsort(centres, kind="stable")
    c = np.asarray(centres, dtype=np.float64)[order]
    t = np.arange(n_points, dtype=np.float64)
    M = np.zeros((n_points, len(c)))
    if len(c) == 1:
        M[:, 0] = 1.0
    else:
        i = np.clip(np.searchsorted(c, t, side="right") - 1, 0, len(c) - 2)
        w = np.clip((t - c[i]) / (c[i + 1] - c[i]), 0.0, 1.0)
        M[np.arange(n_points), i] = 1.0 - w
        M[np.arange(n_points), i + 1] += w
    M[:, order] = M.copy()  # back to the units' own order
    return torch.as_tensor(M, dtype=dtype, device=device)


def _grad_cam(inp: _Inputs, module, x, layers, target=None, idx=None):
    """Grad-CAM of ``layers`` (``(layer, stream)`` pairs) on the input grid.

    Returns the maps (the shape of ``x``), the target indices (``idx``, or
    those of ``target``) and, per sample, whether the target logit depends
    on the layer at all (a gradient not zero everywhere).
    """
    acts, calls = {}, {}

    def hook_for(key):
        def hook(m, args, output):
            # A call without gradients (a union's router predicting with its
            # members inside the forward pass) cannot carry the map, and a
            # copy of the model, where the probe counts calls, need not make
            # it (skorch nets copy their modules): neither counts
            if not torch.is_grad_enabled():
                return None
            if not isinstance(output, torch.Tensor):
                raise ValueError(
                    f"layer must return a tensor, got {type(output).__name__}"
                )
            # a leaf: d logit / d activation, safe from later in-place ops
            acts[key] = leaf = output.detach().requires_grad_(True)
            calls[key] = calls.get(key, 0) + 1  # the probe stops at the last
            return leaf.clone()

        return hook

    with _evaluating(module):
        handles = [
            m.register_forward_hook(hook_for(i)) for i, (m, _) in enumerate(layers)
        ]
        try:
            logits = _logits(module, x, inp.shape)
        finally:
            for handle in handles:
                handle.remove()
        if idx is None:
            idx = inp.target_indices(target, logits)
        if len(acts) != len(layers):
            raise ValueError(
                "layer did not run in the model's forward pass (with gradients)"
            )
        leaves = [acts[i] for i in range(len(layers))]
        grads = torch.autograd.grad(_selected(logits, idx), leaves, allow_unused=True)

    result = torch.zeros_like(x)
    depends = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    for i, ((m, stream), act, grad) in enumerate(zip(layers, leaves, grads)):
        n_axes = act.ndim - 2
        if n_axes not in (1, 2):
            raise ValueError(
                "layer must output maps of shape (n, channels, length) or "
                f"(n, channels, height, width), got {tuple(act.shape)}"
            )
        if grad is None:  # the target logit does not depend on the layer
            grad = torch.zeros_like(act)
        depends |= grad.detach().flatten(1).ne(0).any(1)
        axes = tuple(range(2, act.ndim))
        weights = grad.mean(axes, keepdim=True)  # Grad-CAM: pooled gradients
        cam = torch.relu((weights * act).sum(1, keepdim=True)).detach()
        part = x if stream is None else x[:, stream]
        size = tuple(part.shape[-n_axes:])
        centres = _unit_centres(module, m, calls[i], tuple(x.shape[1:]), stream, n_axes)
        cam = cam.float()
        if centres is None:  # stretched evenly, unit j at (j + 1/2) L / L_f - 1/2
            mode = "linear" if n_axes == 1 else "bilinear"
            cam = F.interpolate(cam, size=size, mode=mode, align_corners=False)
        else:  # each unit at the centre of its receptive field, linear between
            for axis, (c, n) in enumerate(zip(centres, size)):
                dim = cam.ndim - n_axes + axis
                M = _interpolation_matrix(c, n, cam.dtype, cam.device)
                cam = (cam.movedim(dim, -1) @ M.T).movedim(-1, dim)
        peak = cam.flatten(1).amax(1).view(-1, *([1] * (cam.ndim - 1)))
        cam = torch.where(peak > 0, cam / peak.clamp_min(1e-30), torch.zeros_like(cam))
        cam = cam.view(len(x), *([1] * (part.ndim - 1 - n_axes)), *size)
        if stream is None:
            result = cam.expand_as(x).to(x.dtype)
        else:
            result[:, stream] = cam.expand_as(part).to(x.dtype)
    return result, idx, depends


def _target_convs(module, x, idx, shape) -> list:
    """Per sample, the last ``nn.Conv1d``/``nn.Conv2d`` run in the forward pass
    on which its target logit depends (None where there is none).

    A union or ensemble of networks runs every member: the last convolution
    run is that of the last member, which the logit of a class owned by
    another member does not depend on (its Grad-CAM was zero everywhere).
    """
    convs = [m for m in module.modules() if isinstance(m, nn.Conv1d | nn.Conv2d)]
    order, acts = [], {}

    def hook(m, args, output):
        if not torch.is_grad_enabled() or not isinstance(output, torch.Tensor):
            return None  # as in _grad_cam
        if m in acts:
            order.remove(m)
        order.append(m)  # in the order of their last calls
        acts[m] = leaf = output.detach().requires_grad_(True)
        return leaf.clone()

    handles = [m.register_forward_hook(hook) for m in convs]
    with _evaluating(module):
        try:
            logits = _logits(module, x, shape)
        finally:
            for handle in handles:
                handle.remove()
        leaves = [acts[m] for m in order]
        grads = torch.autograd.grad(_selected(logits, idx), leaves, allow_unused=True)
    chosen = [None] * len(x)
    for m, grad in zip(reversed(order), reversed(grads)):
        if grad is None:
            continue
        nonzero = grad.detach().flatten(1).ne(0).any(1).tolist()
        for i, hit in enumerate(nonzero):
            if hit and chosen[i] is None:
                chosen[i] = m
    return chosen


def _attentive_response(inp: _Inputs, target, layer=None):
    module, x = inp.module, inp.tensor()
    streams = getattr(module, "streams", None)
    by_default = False
    with _evaluating(module):
        if layer is not None:
            layers = [(_check_layer(module, layer), None)]
        elif (
            isinstance(streams, nn.ModuleList)
            and x.ndim >= 3
            and x.shape[1] == len(streams)
        ):  # multi-stream: one map per stream, from its own last convolution
            layers = [
                (_last_conv(s, x[:1, i], inp.shape), i) for i, s in enumerate(streams)
            ]
        else:
            layers = [(_last_conv(module, x[:1], inp.shape), None)]
            by_default = True
    result, idx, depends = _grad_cam(inp, module, x, layers, target=target)
    if by_default and not depends.all():
        # samples whose target logit does not depend on the last convolution
        # run (a class of another member of a union): the last one it does
        # depend on, sample by sample; none at all keeps the zero map
        rows = torch.nonzero(~depends).flatten().tolist()
        chosen = _target_convs(module, x[rows], idx[rows], inp.shape)
        result = result.clone()  # expanded over channels: written below
        for conv in {id(c): c for c in chosen if c is not None}.values():
            group = [r for r, c in zip(rows, chosen) if c is conv]
            sub, _, _ = _grad_cam(inp, module, x[group], [(conv, None)], idx=idx[group])
            result[group] = sub
    return result, idx


_METHODS = {
    "saliency": _saliency,
    "integrated_gradients": _integrated_gradients,
    "occlusion": _occlusion,
    "guided_backprop": _guided_backprop,
    "attentive_response": _attentive_response,
}


def _attribute(method, model, X, target=None, one_sample=False, **kwargs):
    """(prepared inputs, attribution in the network's layout, target labels);
    ``one_sample`` as in :func:`_prepare`."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {tuple(_METHODS)}, got {method!r}")
    # Called under torch.inference_mode(), the inputs were inference tensors,
    # which cannot require grad: the gradient methods failed with an autograd
    # error. The network's own tensors are normal ones: the maps need none
    # made in that mode (as under no_grad, which _evaluating lifts)
    with torch.inference_mode(False):
        inp = _prepare(model, X, one_sample)
        if target is None and inp.estimator is not None:
            # the estimator's own answer: a wrapper (search-match, indexing,
            # priors) can answer other than its network's most probable class
            # predict (skorch) leaves the networks in eval mode: keep theirs
            with kept_modes(_estimator_modules(inp)):
                inp.answers = np.asarray(inp.estimator.predict(_flat(inp)))
        attribution, idx = _METHODS[method](inp, target, **kwargs)
    return inp, attribution, inp.labels(idx)


def _flat(inp: _Inputs) -> np.ndarray:
    """``X`` as the estimator's ``predict`` takes it (images flattened)."""
    X = inp.X
    if inp.images:
        X = X.reshape(len(X), -1)
    return X


def _public(method, model, X, target, **kwargs) -> np.ndarray:
    inp, attribution, _ = _attribute(method, model, X, target, **kwargs)
    return inp.output(attribution)


# --------------------------------------------------------------------------- #
# Public functions
# --------------------------------------------------------------------------- #
_MODEL_DOC = """\
model : estimator, Pipeline or torch.nn.Module
        A fitted skxrd classifier (anything with ``net_.module_`` and
        ``classes_``), a fitted :class:`~sklearn.pipeline.Pipeline` whose last
        step is one (``X`` first goes through the ``transform`` of the other
        steps, and the map is of the transformed input), or a plain
        :class:`torch.nn.Module` returning logits (or a tuple whose first
        element holds them). It runs in eval mode on its own device; its mode
        is restored and its parameters are left untouched.
    X : array-like of shape (n_samples, ...), or list of Pattern
        Inputs in the layout the model takes: patterns ``(n_samples, L)`` or
        ``(n_samples, C, L)``, images ``(n_samples, C, H, W)``, multi-stream
        images ``(n_samples, S, C, H, W)``... A torch tensor is read as its
        values, on any device and whether it requires grad or not. A
        pipeline also takes what its first step does, such as
        :class:`~skxrd.io.Pattern` objects for a
        :class:`~skxrd.preprocessing.PatternResampler` (a pretrained model);
        the map is then on the transformed grid (the resampler's ``grid_``).
    target : class label, array-like of shape (n_samples,) or None, default=None
        The class explained, one for all samples or one per sample: a label of
        ``classes_`` for an estimator, a class index for a plain module. None:
        the predicted class of each sample (an estimator's ``predict``, which
        for a search-match or an indexing wrapper can differ from its
        network's most probable class; an answer that the network does not
        output, a search-match's own class, is replaced by the network's most
        probable class, with a warning), or the argmax of a plain module."""


def _doc(func):
    func.__doc__ = func.__doc__.replace("{model}", _MODEL_DOC)
    return func


@_doc
def saliency_map(model, X, target=None) -> np.ndarray:
    """Absolute gradient of the target logit with respect to the input.

    The saliency map of Simonyan, Vedaldi & Zisserman (2014):
    ``|∂ logit_target / ∂ x|`` at every point of each input.

    Parameters
    ----------
    {model}

    Returns
    -------
    ndarray of the shape of X
        Non-negative saliency of each input value.

    Raises
    ------
    ValueError
        If ``X`` has no sample axis, holds NaN or does not fit the model, or
        ``target`` is not a class of the model.

    See Also
    --------
    integrated_gradients : Gradients integrated along a path, signed.
    guided_backprop : Gradients with negative signals blocked at each ReLU.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skxrd.inspection import saliency_map
    >>> model = torch.nn.Linear(4, 2)
    >>> with torch.no_grad():
    ...     _ = model.weight.copy_(torch.tensor([[1.0, -2.0, 0.0, 3.0],
    ...                                          [0.0, 0.0, 1.0, 0.0]]))
    >>> saliency_map(model, np.ones((1, 4)), target=0)
    array([[1., 2., 0., 3.]], dtype=float32)
    """
    return _public("saliency", model, X, target)


@_doc
def integrated_gradients(
    model, X, target=None, baseline=None, n_steps=32, verbose=False
) -> np.ndarray:
    """Integrated gradients of the target logit (Sundararajan et al., 2017).

    ``(x - x') ⊙ ∫₀¹ ∂ logit_target / ∂ x (x' + α (x - x')) dα`` for a
    baseline ``x'``, the integral computed by Gauss-Legendre quadrature with
    ``n_steps`` nodes (one forward and backward pass each). The attributions
    are signed and, up to the quadrature error, sum to
    ``logit_target(x) - logit_target(x')`` ("completeness").

    Parameters
    ----------
    {model}
    baseline : float, array-like or None, default=None
        The reference input: None for zeros, a number for a constant input,
        or an array of the shape of ``X`` or of one sample (of the
        transformed ``X`` for a pipeline).
    n_steps : int, default=32
        Number of quadrature nodes along the path.
    verbose : bool, default=False
        A progress bar over the nodes (each a forward and backward pass over
        all of ``X``).

    Returns
    -------
    ndarray of the shape of X
        Signed attribution of each input value.

    Raises
    ------
    ValueError
        As :func:`saliency_map`, and for a bad ``baseline``, ``n_steps`` or
        ``verbose``.

    Notes
    -----
    Along the path, the gradient of a smooth network varies smoothly and a
    few nodes give the integral to many digits. Through ReLUs and max pooling
    it is piecewise constant, and the error falls only about as
    ``1 / n_steps``: for the shipped crystal-system ResNet, a few tenths of a
    logit (several percent of ``logit(x) - logit(x')``) at the default 32
    nodes, under a tenth at 128 and about 0.01 at 512. Compare
    ``attribution.sum()`` with the change of the logit to choose ``n_steps``.

    Completeness holds for the part of the logit that gradients reach. A
    wrapper whose logits add a term computed from the input without
    gradients, a :class:`~skxrd.estimators.UnionClassifier`'s router weights
    or a :class:`~skxrd.estimators.SymmetryWeightedClassifier`'s space-group
    weights (the shipped ``"structure-type"`` model), recomputes that term at
    every point of the path, and its change is in no attribution: the sum
    then differs from the change of the logit by it, whatever ``n_steps``
    (by a third for a small two-member union).

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skxrd.inspection import integrated_gradients
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(
    ...     torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)
    ... )
    >>> X = np.random.default_rng(0).random((2, 8))
    >>> attribution = integrated_gradients(model, X, target=1)
    >>> with torch.no_grad():
    ...     gap = model(torch.tensor(X, dtype=torch.float32)) - model(torch.zeros(1, 8))
    >>> np.allclose(attribution.sum(axis=1), gap[:, 1].numpy(), atol=1e-4)
    True
    """
    return _public(
        "integrated_gradients",
        model,
        X,
        target,
        baseline=baseline,
        n_steps=n_steps,
        verbose=verbose,
    )


@_doc
def occlusion_map(
    model, X, target=None, window=None, stride=None, fill=0.0, verbose=False
) -> np.ndarray:
    """Drop of the target probability when a sliding window is blanked out.

    The occlusion test of Zeiler & Fergus (2014): a window slides over the
    last axis (patterns) or the last two axes (images) of each input, the
    values under it (in every channel and stream) are replaced by ``fill``,
    and the map at each point is the mean, over the windows covering it, of
    ``p_target(x) - p_target(x occluded)``. Positive values mark evidence
    for the class. Runs without gradients, the occluded copies batched.

    Parameters
    ----------
    {model}
    window : int, tuple of int or None, default=None
        Window size. An int spans the last axis for 1D models and the last
        two for models with 2D convolutions; a tuple of ``k`` sizes spans the
        last ``k`` axes. None: 1/16 of each axis (at least 1 point).
    stride : int, tuple of int or None, default=None
        Step between windows (a last window is added at the end of each
        axis). None: half the window. Points that no window covers (a
        stride larger than the window) get 0.
    fill : float, default=0.0
        Value written into the window.
    verbose : bool, default=False
        A progress bar over the forward passes (of up to 256 occluded
        copies each).

    Returns
    -------
    ndarray of the shape of X
        Probability drop at each point (the same in every channel).

    Raises
    ------
    ValueError
        As :func:`saliency_map`, and for a bad ``window``, ``stride``,
        ``fill`` or ``verbose``, or a window larger than the input.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skxrd.inspection import occlusion_map
    >>> model = torch.nn.Linear(6, 2)
    >>> with torch.no_grad():
    ...     _ = model.weight.zero_()
    ...     _ = model.bias.zero_()
    ...     model.weight[0, 4] = 5.0            # class 0 looks at point 4
    >>> occlusion_map(model, np.ones((1, 6)), target=0, window=2, stride=2).round(2)
    array([[0.  , 0.  , 0.  , 0.  , 0.49, 0.49]], dtype=float32)
    """
    return _public(
        "occlusion",
        model,
        X,
        target,
        window=window,
        stride=stride,
        fill=fill,
        verbose=verbose,
    )


@_doc
def guided_backprop(model, X, target=None) -> np.ndarray:
    """Guided back-propagation of the target logit (Springenberg et al., 2015).

    The gradient with respect to the input where, at every
    :class:`torch.nn.ReLU` module, only positive gradients flowing into
    positive activations pass. The ReLUs get temporary forward hooks (which
    also work with ``inplace=True``), removed before returning. ReLUs applied
    as functions (``torch.relu``, ``F.relu``) are not guided; a model with no
    ``nn.ReLU`` module gives the plain gradient, with a warning.

    Parameters
    ----------
    {model}

    Returns
    -------
    ndarray of the shape of X
        Signed guided gradient of each input value.

    Raises
    ------
    ValueError
        As :func:`saliency_map`.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skxrd.inspection import guided_backprop
    >>> model = torch.nn.Sequential(
    ...     torch.nn.Linear(2, 2), torch.nn.ReLU(inplace=True), torch.nn.Linear(2, 1)
    ... )
    >>> with torch.no_grad():
    ...     _ = model[0].weight.copy_(torch.eye(2))
    ...     _ = model[0].bias.zero_()
    ...     _ = model[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
    >>> guided_backprop(model, np.array([[1.0, 1.0]]))  # the -1 path is blocked
    array([[1., 0.]], dtype=float32)
    """
    return _public("guided_backprop", model, X, target)


@_doc
def attentive_response_map(model, X, target=None, layer=None) -> np.ndarray:
    """Attentive response map: Grad-CAM of a convolutional layer, on the input grid.

    The maps with which the 2D-fingerprint classifier of Ziletti et al.
    (Nat. Commun. 9, 2775, 2018) is inspected, computed as the class
    activation map of Selvaraju et al. (Grad-CAM, 2017): the activations
    ``A_k`` of a convolutional layer are weighted by the spatially averaged
    gradients of the target logit, ``ReLU(Σ_k w_k A_k)``, brought to the
    input grid (see Notes) and divided by their maximum, per sample. For 1D
    models this is the class activation map over 2θ. A multi-stream network
    (with a ``streams`` module list and ``layer=None``) gets one map per
    stream, from that stream's layer.

    Parameters
    ----------
    {model}
    layer : torch.nn.Module, str or None, default=None
        The layer (a submodule, or its name in ``named_modules()``) whose
        output maps ``(n, channels, L)`` or ``(n, channels, H, W)`` are used.
        None: the last ``nn.Conv1d`` or ``nn.Conv2d`` run in the forward pass
        on which the target logit depends, sample by sample (in a union of
        networks, that of the member owning the class; the last one run when
        the logit depends on none). A layer run several times uses its last
        call.

    Returns
    -------
    ndarray of the shape of X
        Map in [0, 1] (1 at each sample's maximum; all zeros where no
        location supports the class), the same in every channel.

    Raises
    ------
    ValueError
        As :func:`saliency_map`, and for a ``layer`` that is not a submodule
        or does not run, or a model without convolutions.

    Warns
    -----
    UserWarning
        Where the receptive fields of the layer's units cannot be located
        (see Notes); the map is then stretched evenly over the input.

    Notes
    -----
    Each unit of the layer is placed at the centre of its receptive field on
    the input grid, and the map is interpolated linearly between the units
    (bilinearly, axis by axis, over an image), the end units' values held up
    to the input's ends. Strides, paddings and pools set these centres:
    unit ``j`` of a layer with total stride ``s`` sits at ``a + s j``, not at
    ``(j + 1/2) L / L_layer``. A ResNet1D with ``stem_stride=4`` (64 points
    per unit) puts unit ``j`` at point ``64 j``; stretched evenly over 4250
    points, its maps sat up to 31 points (0.6° at 0.02° steps) too high at
    low angles.

    The centres are measured on the network itself, with no table of
    architectures: in a copy with equal positive weights, no biases,
    normalisations left out and max pools made average pools, the gradient
    of each unit with respect to a constant input covers exactly its
    receptive field. The line ``a + s j`` is fitted to the units whose field
    lies inside the input (on a longer input where none does) and must agree
    with the measured field of every unit, cut off by the input's ends; a
    layer that is not such a stack of windows (an adaptive pool...) has each
    unit at the centre of mass of its measured field. A model that will not
    run the probe (a union, whose router checks the input in its forward
    pass) is probed through the network that holds the layer; only calls of
    the layer with gradients count (not a router's predictions). The centres
    are computed once per model, layer and input shape, and cached.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skxrd.inspection import attentive_response_map
    >>> from skxrd.models import DenseNet2D
    >>> _ = torch.manual_seed(0)
    >>> model = DenseNet2D(n_classes=3, growth_rate=4, block_config=(1,))
    >>> X = np.random.default_rng(0).random((2, 1, 16, 16))
    >>> cam = attentive_response_map(model, X)
    >>> cam.shape, float(cam.min()) >= 0, cam.reshape(2, -1).max(axis=1)
    ((2, 1, 16, 16), True, array([1., 1.], dtype=float32))
    """
    return _public("attentive_response", model, X, target, layer=layer)
