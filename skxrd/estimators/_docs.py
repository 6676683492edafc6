"""Docstring templates shared by the network estimators."""

from __future__ import annotations

import re

_TRAINING_PARAMETERS_DOC = """\
max_epochs : int, default=30
    Maximum number of passes over the training data (fewer with early
    stopping).
batch_size : int, default=128
    Patterns per training step (and per prediction batch).
lr : float, default=1e-3
    Initial learning rate.
weight_decay : float, default=1e-4
    Weight decay of the optimizer (decoupled for ``"adamw"``).
label_smoothing : float, default=0.0
    Label smoothing of the training cross-entropy, in ``[0, 1)``: the target
    puts this much of its probability evenly on all classes.
coarse_loss : dict or None, default=None
    A multi-task loss for space-group labels (numbers 1–230): ``{coarse
    target: weight}`` with targets of :class:`CoarseLabelClassifier`
    (``"crystal_system"``, ``"bravais_lattice"``...). Each adds, with its
    weight, the negative log of the summed probability of the true space
    group's coarse class to the cross-entropy
    (:class:`skxrd.models.HierarchicalLoss`), so the one output layer learns
    to put its probability in the right crystal system even where it cannot
    tell the space groups apart. None: the cross-entropy alone.
class_weight : dict, "balanced" or None, default=None
    Weights of the classes in the training loss, multiplied with the
    ``sample_weight`` of ``fit`` (space-group labels are far from balanced):
    a dict ``{class label: weight}`` (weights >= 0; classes it leaves out
    weigh 1; a label that is not a class is a ValueError), or
    ``"balanced"``: ``n_samples / (n_classes * count)`` of each class of
    ``y``, counts weighted by ``sample_weight``, as
    :func:`sklearn.utils.class_weight.compute_class_weight` and
    ``LogisticRegression`` count them. None: every class weighs 1 (the
    training is that of a fit without weights). Model files
    (:func:`skxrd.pretrained.save_model`) store it, a dict with its labels'
    types, so that a warm start from one trains as weighted as it was.
optimizer : {"adamw", "adam", "sgd"} or torch.optim.Optimizer subclass, \
default="adamw"
    The optimizer; ``"sgd"`` uses Nesterov momentum 0.9.
lr_schedule : {"cosine", "plateau"} or None, default="cosine"
    ``"cosine"``: cosine annealing of the learning rate to 0 over
    ``max_epochs``; ``"plateau"``: divide it by 10 when the validation loss
    (the training loss without a validation split) has not improved for
    ``max(1, patience // 2)`` epochs; None: constant.
early_stopping : bool, default=True
    Stop when the validation loss has not improved for ``patience`` epochs and
    restore the weights of the best epoch. Needs a validation split.
patience : int, default=5
    Epochs without improvement before early stopping.
validation_fraction : float or None, default=0.1
    Fraction of the training data held out (seeded, stratified by class;
    classes with a single sample stay in training) to monitor the validation
    loss and accuracy. None or 0: no split. When the data are too few for a
    validation set holding every class, training uses all of them and
    neither early stopping nor validation scores are available.
augment : None, "default" or callable, default=None
    Train-time augmentation of each training batch, on the device, never of
    validation or prediction batches: a callable ``augment(x, generator=g)``
    on a float tensor of shape ``(batch, n_points)`` that returns a tensor of
    the same shape (for example a transform of :mod:`skxrd.augmentation`);
    ``"default"`` is :func:`skxrd.augmentation.default_augmentation` (for
    patterns on the standard 4250-point 2θ grid), its max-normalized output
    scaled back to each pattern's maximum, so that training batches keep the
    scale of the patterns (max-, area-normalized or counts) as validation and
    prediction batches do.
device : str or torch.device, default="auto"
    ``"auto"``: the GPU when CUDA is available, else the CPU; or ``"cpu"``,
    ``"cuda"``, ``"cuda:1"``...
num_threads : int or None, default=None
    Number of CPU threads torch uses during ``fit`` and prediction (set with
    :func:`torch.set_num_threads` and restored after). None: torch's setting.
    Use 1 when several fits run in parallel (``GridSearchCV(n_jobs=...)``,
    pytest-xdist): tiny networks on oversubscribed cores slow down by orders
    of magnitude.
precision : {"auto", "bf16", "float32"}, default="auto"
    Precision of the forward passes: ``"auto"`` runs them under bfloat16
    autocast on GPUs that support it and in float32 on CPUs; ``"bf16"``
    always uses bfloat16 autocast.
compile : bool or dict, default=False
    Train with the network (and loss) compiled by :func:`torch.compile`
    (through skorch's ``compile``); a dict gives its arguments, e.g.
    ``{"mode": "max-autotune"}``. Worth it on GPUs for long trainings: the
    first batches pay the compilation (tens of seconds). The fitted model
    holds the uncompiled network (same parameters), so it pickles and loads
    anywhere.
accelerate : bool or dict, default=False
    Train through Hugging Face ``accelerate`` (skorch's ``AccelerateMixin``):
    True, or a dict of :class:`accelerate.Accelerator` arguments such as
    ``{"mixed_precision": "bf16"}`` or ``{"cpu": True}``. The accelerator
    places the data and network (``device`` must stay ``"auto"``) and sets
    the mixed precision (``precision`` must stay ``"auto"``). Launched with
    ``accelerate launch --multi_gpu --num_processes N script.py``, every
    process runs ``fit`` on its share of each epoch (distributed data
    parallel) and ends with the same weights. The fitted model holds a plain
    network on the accelerator's device. accelerate's state is process-wide:
    the fits of one process share the mixed precision of the first. Needs
    ``pip install accelerate``.
checkpoint_dir : str or path-like, default=None
    Directory for the files of each training run, named after the run
    (``<run>``: a digest of the fingerprint below and of the patterns). During
    training, the parameters, optimizer state and history of the best epoch
    (by validation loss, else training loss: ``<run>-params.pt``,
    ``<run>-optimizer.pt``, ``<run>-history.json``), and, after every epoch,
    the whole training state (``resume-<run>.pt``: also the learning-rate
    schedule, early stopping and the random generators). A fit of the same
    estimator on the same data (the same parameters but device, threads and
    verbosity; the same labels, and patterns equal to within float32
    rounding; the same warm-start weights; an int ``random_state``: with
    None or a generator each fit is a run of its own) resumes from it: an
    interrupted run (a closed session, Ctrl-C) trains only the epochs that
    are left and ends with the network an uninterrupted run gives (bit for
    bit on the same CPU and threads), and a finished run returns its network
    without training. A warm-started fit that was interrupted is resumed by
    fitting the same estimator again (its network then holds the weights the
    interruption left) or a fresh one with the weights the run began from.
    When the interrupted run's ``resume-<run>.pt`` is gone (deleted, or
    ``checkpoint_dir`` changed since), fitting the same estimator again on
    the same data warns (``UserWarning``, naming the file) and cannot resume
    it: after a warm start it starts a new run from the weights the
    interruption left (a fresh optimizer and learning-rate schedule,
    ``max_epochs`` epochs), else it trains from the first epoch. A state
    file that cannot be read, or that holds another fit's state, is a
    ``ValueError`` naming it (remove it to train afresh). The folder is
    created when ``fit`` starts: a path that is a file, or a folder where
    files cannot be written, is a ``ValueError`` then, not after the first
    epoch. Fits of other parameters or data (the folds of cross-validation,
    the candidates of a grid search, also in parallel) keep their own files.
    With ``accelerate``, only the best epoch is saved, and nothing resumes.
    None: no checkpoints; nothing is ever written to the working directory.
warm_start : bool, default=False
    When True and the estimator is fitted, ``fit`` starts from the weights of
    the previous fit (the optimizer and learning-rate schedule start afresh).
    The network parameters, the number of features and the classes must be
    the same (``y`` may hold a subset of ``classes_``).
random_state : int, RandomState instance or None, default=None
    Seeds the weight initialization, the shuffling, dropout, the augmentation
    and the validation split. With an int, fitting twice on the same data
    gives the same model on a CPU (GPU kernels may not be bit-reproducible).
verbose : int, default=0
    0: silent; 1: a table of the losses after each epoch; 2: also a progress
    bar."""

_ATTRIBUTES_DOC = """\
classes_ : ndarray of shape (n_classes,)
    The class labels (any type: space-group numbers, symbols...).
n_features_in_ : int
    Number of points per pattern seen in ``fit``.
feature_names_in_ : ndarray of str
    Column names seen in ``fit`` (a DataFrame with string column names).
net_ : skorch.NeuralNetClassifier
    The trained skorch net (the network is ``net_.module_``).
history_ : skorch.History
    Per-epoch training log of the last ``fit`` (``train_loss``,
    ``valid_loss``, ``valid_acc``, ``dur``...).
n_epochs_ : int
    Number of epochs run by the last ``fit``."""


def _fill_doc(cls):
    """Insert the shared parameter and attribute sections into ``cls.__doc__``."""

    def block(text, indent):
        return "\n".join(indent + line if line else "" for line in text.splitlines())

    doc = cls.__doc__
    for key, text in (
        ("{training_parameters}", _TRAINING_PARAMETERS_DOC),
        ("{attributes}", _ATTRIBUTES_DOC),
    ):
        match = re.search(r"^([ \t]*)" + re.escape(key), doc, flags=re.MULTILINE)
        if match:
            doc = doc.replace(match.group(0), block(text, match.group(1)))
    cls.__doc__ = doc
    return cls
