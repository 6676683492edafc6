"""
Training on several GPUs with accelerate
========================================

The deep classifiers train through Hugging Face accelerate with
``accelerate=True`` (or a dict of :class:`accelerate.Accelerator` arguments).
Launched with ``accelerate launch``, every process runs the same script: each
takes its share of every epoch's batches (distributed data parallel), the
gradients are averaged, and all processes end with the same weights. The
fitted estimator holds a plain network, so it is saved and loaded like any
other. This page is not run when the documentation is built (it needs GPUs);
the same code runs on one GPU, or on the CPU with ``{"cpu": True}``.

Save it as ``train_multi_gpu.py`` and run, on a machine with 4 GPUs::

    pip install "skxrd[torch,accelerate]"
    accelerate launch --multi_gpu --num_processes 4 train_multi_gpu.py

The batch size is per process: with 4 processes and ``batch_size=256``, each
step sees 1024 patterns, so scale the learning rate accordingly.
``compile=True`` adds :func:`torch.compile` (its first batches pay the
compilation).
"""

import joblib
from accelerate import PartialState

from skxrd.datasets import PatternStore
from skxrd.estimators import ResNetClassifier

if __name__ == "__main__":
    state = PartialState()  # which process this is
    with PatternStore("sg-1M.h5") as store:  # write_pattern_store(...) beforehand
        clf = ResNetClassifier(
            depth=8,
            width=32,
            batch_size=256,
            lr=4e-3,
            max_epochs=30,
            accelerate={"mixed_precision": "bf16"},
            compile=True,
            random_state=0,
            verbose=1,  # the main process prints the epochs
        ).fit(store)
    if state.is_main_process:  # every process holds the same weights
        joblib.dump(clf, "space_group_resnet.joblib")
