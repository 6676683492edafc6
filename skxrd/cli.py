"""Command-line interface: ``skxrd predict|watch|evaluate|simulate|train|demo``."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

from .utils._files import check_new_file
from .utils._validation import plain_scalar

__all__ = ["main"]


def _simulator_from_args(args):
    from .simulation import PowderSimulator

    radiation = args.radiation
    try:
        radiation = float(radiation)
    except ValueError:
        pass
    return PowderSimulator(
        radiation=radiation,
        wavelength=args.wavelength,
        two_theta_range=(args.two_theta_min, args.two_theta_max),
        two_theta_step=args.step,
        crystallite_size=args.crystallite_size,
        n_jobs=args.n_jobs,
        verbose=not args.quiet,
        kbeta=args.kbeta,
        polarization=args.polarization,
    )


def _cmd_simulate(args) -> int:
    from .crystal import Crystal

    out = Path(args.output)
    if out.suffix not in (".csv", ".npz"):
        raise ValueError(f"-o {out} must end in .csv or .npz")
    _check_output(out, "-o", args.force)
    _check_n_jobs(args.n_jobs)
    sim = _checked_simulator(args)  # before the CIFs are read
    crystals = []
    for path in args.cif:
        if Path(path).is_dir():
            raise ValueError(f"{path} is a folder, not a CIF file")
        # a CIF that cannot be read: its ValueError (or FileNotFoundError)
        # names the file, and main makes it one line and exit status 2
        crystals.append(Crystal.from_cif(path))
    X = sim.transform(crystals)
    radiation = sim.fit().radiation_
    names = [Path(p).stem for p in args.cif]
    out.parent.mkdir(parents=True, exist_ok=True)  # as skxrd train's model file
    if out.suffix == ".npz":
        # the wavelength, as skxrd evaluate reads an .npz of 2θ patterns
        np.savez_compressed(
            out,
            X=X,
            two_theta=sim.two_theta,
            names=np.array(names),
            wavelength=radiation.wavelength,
            radiation=radiation.name,
        )
    else:
        from .io._readers import _header_lines

        # a header read_pattern understands: the wavelength and the doublet
        head = _header_lines(
            "two_theta", radiation.wavelength, radiation, "skxrd simulate"
        )
        if len(names) == 1:
            head.append(f"# name: {json.dumps(names[0], ensure_ascii=False)}")
        else:
            # read_pattern refuses a file that says so, rather than read the
            # second pattern as the uncertainty of the first
            head.append(f"# patterns: {len(names)}")
        # CSV-quoted: a name with a comma would shift every later column
        header = "\n".join(head + [_csv_row(["two_theta", *names])])
        np.savetxt(
            out,
            np.column_stack([sim.two_theta, X.T]),
            delimiter=",",
            header=header,
            comments="",
            fmt="%.6g",
            encoding="utf-8",  # "Å", and names of any script (numpy: latin-1)
        )
    noun = "pattern" if len(crystals) == 1 else "patterns"
    print(f"wrote {len(crystals)} {noun} of {X.shape[1]} points to {out}")
    return 0


# the PowderSimulator parameters that skxrd simulate's options set; the
# radiation's and the wavelength's errors name either or both
_SIMULATE_OPTIONS = {
    "two_theta_range": ("--two-theta-min", "--two-theta-max"),
    "two_theta_step": ("--step",),
    "crystallite_size": ("--crystallite-size",),
    "kbeta": ("--kbeta", "--radiation"),
    "polarization": ("--polarization", "--radiation"),
    "radiation": ("--radiation", "--wavelength"),
    "wavelength": ("--radiation", "--wavelength"),
}


def _checked_simulator(args):
    """The simulator of ``skxrd simulate``'s options, checked before any CIF
    is read; its error says which options it is about (the simulator's
    names its own parameters, ``two_theta_step``, not ``--step``)."""
    sim = _simulator_from_args(args)
    try:
        sim.fit()
    except ValueError as exc:
        message = str(exc)
        for param, options in _SIMULATE_OPTIONS.items():
            if param in message:
                values = [(o, getattr(args, o[2:].replace("-", "_"))) for o in options]
                given = " ".join(f"{o} {_plain(v)}" for o, v in values if v is not None)
                raise ValueError(f"{given}: {message}") from None
        raise
    return sim


def _plain(value):
    """An option's value as it was typed: ``5``, not ``5.0``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _csv_row(fields):
    """One CSV line of ``fields``, quoted where a field holds a comma or a
    quote (the csv module's rules, which pandas and spreadsheets read)."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _check_output(path, option, force):
    """``path`` as a file the command may write, checked before the work (not
    after it): a folder there, a file where one of its folders should be, a
    broken link, or, without ``--force``, an existing file is an OSError
    naming ``option``, which :func:`main`, as every error in what the user
    gave, reports in one line with exit status 2. Missing folders are made
    when the file is written."""
    check_new_file(
        path,
        bool(force),
        name=option,
        replace_hint="use --force to replace it",
        make_folders=True,
    )


def _check_n_jobs(n_jobs):
    """``--n-jobs 0``, named before the work (joblib's error came after it)."""
    if n_jobs == 0:
        raise ValueError("--n-jobs must be a number of workers (or -1: all), got 0")


def _cmd_demo(args) -> int:
    from ._demo import run_demo

    return run_demo(args.output, quick=args.quick, force=args.force)


def _symmetry_outputs(out, model, force):
    """The union's model file beside the view ``out`` of a ``[symmetry]``
    config, checked before training."""
    if out.suffix != ".json":
        raise ValueError(
            f"a config with [symmetry] writes a view of two model "
            f"files: -o must be a .json file (its union goes beside it as "
            f"NAME-union.pt), got {out}"
        )
    union_out = out.with_name(out.stem + "-union.pt")
    _check_output(union_out, "the union's model file (beside -o)", force)
    if model.endswith(".pt") and (
        Path(model).resolve().parent != out.resolve().parent
        or not Path(model).is_file()
    ):
        raise ValueError(
            f"[symmetry] model {model} must be a model file in the "
            f"folder of -o ({out.parent}), which the view names"
        )
    return union_out


def _resume_file(resume):
    """``--resume``'s model file: a path, or a shipped model's name."""
    if resume is None:
        return None
    if Path(resume).is_file():
        return Path(resume)
    from .pretrained import _MODELS, _weights_file

    if resume in _MODELS and _weights_file(resume).suffix == ".pt":
        return _weights_file(resume)
    raise ValueError(
        f"--resume {resume}: no such model file (nor a shipped "
        "model with its own network file: "
        + ", ".join(n for n in sorted(_MODELS) if _weights_file(n).suffix == ".pt")
        + ")"
    )


def _check_train_options(args):
    """``--threads``, ``--n-jobs``, ``--device`` and ``--checkpoint-dir``,
    before the data."""
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    _check_n_jobs(args.n_jobs)
    if args.device is not None:  # else the config's, checked by train_from_config
        _check_device(args.device)
    checkpoint = args.checkpoint_dir
    if checkpoint is not None and Path(checkpoint).exists():
        if not Path(checkpoint).is_dir():
            raise ValueError(f"--checkpoint-dir {checkpoint} is a file, not a folder")


def _check_device(device):
    """``--device`` named in its error, before the work: a device that is
    absent (``cuda`` without CUDA) or unknown (``gpu``). ``auto`` and ``cpu``
    need no check, nor torch (the CPU's models run without it)."""
    if device in ("auto", "cpu"):
        return
    from .utils._torch import resolve_device

    try:
        resolve_device(device, kinds=("cpu", "cuda", "mps", "xpu"))
    except ValueError as exc:
        raise ValueError(f"--device {device}: {exc}") from None


def _cmd_train(args) -> int:
    import json

    from .pretrained import load_config, save_model, train_from_config

    out = Path(args.output)
    _check_output(out, "-o", args.force)  # a folder would be found after training
    resume = _resume_file(args.resume)
    _check_train_options(args)
    config = load_config(args.config)
    symmetry = config.get("symmetry")
    if symmetry is not None:
        union_out = _symmetry_outputs(out, symmetry["model"], args.force)
    elif out.suffix.lower() in (".json", *_PICKLES):
        # every loader reads .json as a view and refuses pickles: such a file
        # could never be loaded again
        raise ValueError(
            f"-o {out}: a model file is written (.pt); {out.suffix} "
            "is "
            + (
                "a view, which only a config with [symmetry] writes"
                if out.suffix.lower() == ".json"
                else "a pickle, which skxrd never writes"
            )
        )
    if resume is not None:
        from .pretrained import load_model
        from .pretrained._train import check_warm_start

        # read once before the data and the training: a damaged file, or a
        # model of another grid or target, fails now
        check_warm_start(
            config, load_model(resume, device="cpu"), f"--resume {args.resume}"
        )
    import contextlib
    import warnings

    try:
        # skorch prints its epoch table on stdout: progress, which goes to
        # stderr with the progress bars, so that stdout holds the summary
        # alone (skxrd train ... > summary.json)
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            # the check above said it, naming --resume: not a second time
            # from the training's own check of the same file
            warnings.filterwarnings(
                "ignore", message=r"warm_start .* was trained with class_weight"
            )
            pipe, report = train_from_config(
                config,
                cache=args.cache,
                n_jobs=args.n_jobs,
                num_threads=args.threads,
                warm_start=resume,
                device=args.device,
                checkpoint_dir=args.checkpoint_dir,
                verbose=0 if args.quiet else 1,
            )
    except KeyboardInterrupt as exc:
        if args.checkpoint_dir is None:
            raise
        print(
            f"skxrd train: {exc or 'interrupted'}; the same command resumes it",
            file=sys.stderr,
        )
        return 130
    if resume is not None:
        report["resumed_from"] = str(args.resume)
    if symmetry is not None:
        # the union as a model file, and the view that weighs it by the
        # space-group model (save_symmetry_view) at -o
        from .pretrained import PatternPipeline, save_symmetry_view

        name, weighed = pipe.steps[-1]
        union = PatternPipeline(list(pipe.steps[:-1]) + [(name, weighed.estimator_)])
        meta = {k: v for k, v in report.items() if k != "symmetry"}
        save_model(
            union, union_out, metadata=meta, overwrite=args.force,
            **config.get("save", {}),
        )  # fmt: skip
        model = symmetry["model"]
        save_symmetry_view(
            out,
            union_out,
            Path(model).name if model.endswith(".pt") else model,
            weight=weighed.weight_,
            metadata={"symmetry": report["symmetry"]},
            overwrite=args.force,
        )
        print(f"wrote {union_out}", file=sys.stderr)
    else:
        save_model(
            pipe, out, metadata=report, overwrite=args.force, **config.get("save", {})
        )
    summary = {
        k: report[k]
        for k in ("name", "n_train", "n_epochs", "total_epochs", "fit_seconds")
    }
    if "test" in report:
        summary["test"] = report["test"]
    print(json.dumps(summary, indent=1))
    print(f"wrote {out}", file=sys.stderr)
    return 0


_PICKLES = (".joblib", ".pkl", ".pickle")


def _load_model(spec, device, trust_pickle=False, light=False):
    """A pretrained name, a model file (.pt) or, when trusted, a joblib pickle.

    With ``light``, a model file that :func:`~skxrd.pretrained._runtime.
    load_predictor` covers (the shipped crystal-system and space-group models,
    on the CPU) is read into a Predictor, which answers as its pipeline does
    without importing scikit-learn; other models are read in full.
    """
    from .pretrained import list_pretrained, load_model, load_pretrained

    if spec in list_pretrained():
        if light:
            from importlib import resources

            from .pretrained import _weights_file
            from .pretrained._runtime import load_predictor

            with resources.as_file(_weights_file(spec)) as file:
                predictor = load_predictor(file, device=device)
            if predictor is not None:
                return predictor
        return load_pretrained(spec, device=device)
    path = Path(spec)
    if not path.is_file():
        raise ValueError(
            f"--model {spec!r} is neither a pretrained model "
            f"({', '.join(sorted(list_pretrained()))}) nor a file"
        )
    if path.suffix.lower() in _PICKLES:
        if not trust_pickle:
            raise ValueError(
                f"--model {spec}: a pickle can run any code when it is loaded; "
                "pass --trust-pickle to load it if you made it or trust who did, "
                "or use a model file (.pt, written by skxrd train or "
                "skxrd.pretrained.save_model), which loads without running code"
            )
        import joblib

        return joblib.load(path)
    if light:
        from .pretrained._runtime import load_predictor

        predictor = load_predictor(path, device=device)
        if predictor is not None:
            return predictor
    return load_model(path, device=device)


def _check_answer_options(args):
    """``--top-k``, ``--device``, ``--wavelength`` and ``--max-file-mb``
    checked once, before the files and the model are read: each error names
    its option (a folder watch would otherwise blame every file for them)."""
    from .utils._radiation import get_radiation

    if args.top_k < 1:
        raise ValueError(f"--top-k must be >= 1, got {args.top_k}")
    _check_device(args.device)
    if _matches_k(args) < 1:
        raise ValueError(f"--matches must be >= 1, got {args.matches}")
    wavelength = _wavelength_arg(args.wavelength)
    if wavelength is not None:
        try:
            get_radiation(wavelength)
        except ValueError as exc:
            raise ValueError(f"--wavelength {args.wavelength}: {exc}") from None
    _max_bytes(args)


def _wavelength_arg(value):
    """``--wavelength``'s text as read_pattern takes it: a number of Å, or a
    radiation name (checked where it is resolved)."""
    from .io._readers import _wavelength_argument

    return _wavelength_argument(value)


def _noting(func, *args, **kwargs):
    """``func(...)`` and the messages of the UserWarnings it raised (for notes)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    return result, [
        str(w.message) for w in caught if issubclass(w.category, UserWarning)
    ]


def _max_bytes(args):
    """``read_pattern``'s ``max_bytes`` from ``--max-file-mb`` (0: no limit)."""
    from .io._readers import MAX_PATTERN_BYTES

    mb = getattr(args, "max_file_mb", None)
    if mb is None:
        return MAX_PATTERN_BYTES
    if not math.isfinite(mb) or mb < 0:
        raise ValueError(
            f"--max-file-mb must be a finite number >= 0 (0: no limit), got {mb:g}"
        )
    return None if mb == 0 else max(int(mb * 1e6), 1)


def _read_files(files, wavelength, axis=None, max_bytes=None, block=None, failed=None):
    """Patterns of ``files`` and the readers' notes; no wavelength is an error.
    ``block``: ``--block`` as given (a powder CIF's data block: a name, or
    digits for its index). With a list ``failed``, a file that cannot be read
    is appended to it as ``(position in files, message)`` and passed over (its
    pattern is missing from the list returned) instead of raising."""
    from tqdm.auto import tqdm

    from .io import read_pattern

    patterns, notes = [], []
    # a bar for long lists, on terminals only (disable=None)
    bar = tqdm(files, desc="reading", unit="file", disable=len(files) < 20 or None)
    for i, f in enumerate(bar):
        try:
            try:
                p, said = _noting(
                    read_pattern,
                    f,
                    wavelength=_wavelength_arg(wavelength),
                    axis=axis,
                    max_bytes=max_bytes,
                    block=_block_arg(block),
                )
            except ValueError as exc:
                if wavelength is None and "states no wavelength" in str(exc):
                    raise ValueError(
                        f"{f} states no wavelength; pass --wavelength (in Å or a "
                        "name such as CuKa)"
                    ) from None
                raise
        except (ValueError, OSError) as exc:
            if failed is None:
                raise
            failed.append((i, _file_error(f, exc)))
            continue
        patterns.append(p)
        notes.extend(said)
    return patterns, notes


def _file_error(path, exc):
    """One line of the error ``exc`` of the file ``path``, naming the file (the
    readers' errors name it already)."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return message if str(path) in message else f"{path}: {message}"


def _block_arg(block):
    """``read_pattern``'s ``block`` from ``--block``: digits are an index
    among the file's pattern blocks, anything else a block's name."""
    if block is None:
        return None
    text = str(block).strip()
    return int(text) if text.isdigit() else text


def _cmd_predict(args) -> int:
    import json

    _check_min_confidence(args)
    _check_answer_options(args)  # --top-k, --wavelength: named, before the work
    _refuse_existing_plot(args.plot, args.force)  # before the work, not after it
    # the files first: a file that cannot be read is reported at once, not
    # after the seconds that loading the model (torch, scikit-learn) takes.
    # One such file among many (a truncated scan of a batch) costs only its
    # own answer: it is named on stderr, the others are answered, and the
    # exit status is 2
    given, failed = _expand_files(args.files, _max_bytes(args))
    unmatched = {i for i, _ in failed}  # a folder or pattern naming no file
    todo = [i for i in range(len(given)) if i not in unmatched]
    read_failed = []
    patterns, notes = _read_files(
        [given[i] for i in todo],
        args.wavelength,
        args.axis,
        _max_bytes(args),
        args.block,
        read_failed,
    )
    failed += [(todo[j], message) for j, message in read_failed]
    bad = {i for i, _ in failed}
    read = [i for i in todo if i not in bad]
    if args.strip_kalpha2:  # the doublet stripped is each file's own
        kept = []
        for i, p in zip(read, patterns):
            if p.radiation is None:
                failed.append((i, _no_doublet(given[i], p)))
            else:
                kept.append((i, p))
        read, patterns = [i for i, _ in kept], [p for _, p in kept]
    for _, message in sorted(failed):
        print(f"skxrd predict: {message}", file=sys.stderr, flush=True)
    files = [given[i] for i in read]
    results = []
    if files:  # else nothing to answer: the model is not even loaded
        # without --plot, which needs the pipeline's network, a Predictor where
        # it covers the model: the same answers without importing scikit-learn
        model = _load_model(
            args.model, args.device, args.trust_pickle, light=not args.plot
        )
        if not hasattr(model, "predict_top_k"):
            raise ValueError(f"--model {args.model}: the model has no predict_top_k")
        results, said = _answers(model, files, patterns, args)
        notes += said
        note = _matches_note(model, args)  # once, not per file
        if note:
            notes.append(note)
    if args.json:
        # every file given, in order: one that could not be read as its
        # file and error, so that the list matches the command line
        errors = dict(failed)
        answered = iter(results)
        everything = [
            {"file": str(f), "error": errors[i]} if i in errors else next(answered)
            for i, f in enumerate(given)
        ]
        print(json.dumps(everything, indent=1))
    elif args.csv:
        _print_csv(given, failed, results, args.top_k)
    else:
        for res in results:
            _print_answer(res)
    for note in notes:
        print(f"skxrd predict: note: {note}", file=sys.stderr)
    if args.plot and files:
        if args.strip_kalpha2:  # the maps of the patterns that were answered
            patterns = _strip_kalpha2(patterns, files)
        _plot_predictions(
            model, patterns, args.plot, args.force, results, top_k=args.top_k
        )
    return 2 if failed else 0


#: the columns of an indexed cell in ``skxrd predict --csv``
_CSV_CELL = ("lattice", "a", "b", "c", "alpha", "beta", "gamma", "figure_of_merit")


def _print_csv(files, failed, results, top_k):
    """``skxrd predict --csv``: a header and a row per file given, in order.

    The columns are the same for every model, empty where they do not apply
    (a file that could not be read has its ``error``; a model without a
    search-match has no ``reference``): ``file``, ``answer``, ``reason``,
    ``error``, ``label_i``, ``name_i`` (space-group symbol or Bravais
    lattice's name) and ``probability_i`` for i = 1..top_k, ``reference``,
    ``similarity``, ``answered_by`` and the indexed cell's ``cell_*``.
    """
    import csv

    ranks = range(1, top_k + 1)
    header = ["file", "answer", "reason", "error"]
    header += [f"{c}_{i}" for i in ranks for c in ("label", "name", "probability")]
    header += ["reference", "similarity", "answered_by"]
    header += [f"cell_{c}" for c in _CSV_CELL]
    writer = csv.DictWriter(sys.stdout, header, lineterminator="\n")
    writer.writeheader()
    errors, answered = dict(failed), iter(results)
    for i, f in enumerate(files):
        if i in errors:
            writer.writerow({"file": f, "error": errors[i]})
            continue
        res = next(answered)
        row = {k: res[k] for k in ("file", "answer", "reason")}
        for rank, pred in enumerate(res["predictions"], 1):
            row[f"label_{rank}"] = pred["label"]
            row[f"name_{rank}"] = pred.get("symbol", pred.get("name", ""))
            row[f"probability_{rank}"] = pred["probability"]
        match = res.get("match") or {}
        row |= {k: match.get(k, "") for k in ("reference", "similarity")}
        row["answered_by"] = match.get("answered_by", "")
        cell = res.get("cell") or {}
        row |= {f"cell_{c}": cell.get(c, "") for c in _CSV_CELL}
        writer.writerow(row)


def _skipped_structure_cif(path, max_bytes, command) -> bool:
    """Whether ``path`` is a structure CIF (a ``.cif`` without a ``_pd_`` data
    loop), which ``skxrd predict`` and ``watch`` pass over in a folder with
    one line on stderr, not an error."""
    from .io._pdcif import is_structure_cif

    if path.suffix.lower() == ".cif" and is_structure_cif(path, max_bytes):
        print(
            f"skxrd {command}: {path}: skipped, a structure CIF (no _pd_ data loop)",
            file=sys.stderr,
            flush=True,
        )
        return True
    return False


def _expand_files(names, max_bytes=None):
    """``skxrd predict``'s FILE arguments as the files to read, and the
    arguments that name none as ``(position, message)``.

    A folder stands for its pattern files (those ``skxrd watch`` answers, in
    name order; a structure CIF is passed over with a line on stderr), and a
    name that is no file but holds ``*``, ``?`` or ``[`` for the files it
    matches: Windows' shells pass ``*.xy`` on unexpanded. A folder without
    pattern files and a pattern matching nothing are each an error of their
    own, kept in place (the others are still answered)."""
    import glob

    files, failed = [], []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = []
            for f in _FolderWatch(path, ignore_present=False).poll(settle=False):
                if _skipped_structure_cif(f, max_bytes, "predict"):
                    continue
                found.append(str(f))
            if not found:
                failed.append(
                    (
                        len(files),
                        f"{name} is a folder without pattern files ("
                        + " ".join(_WATCH_SUFFIXES)
                        + ")",
                    )
                )
                found = [name]
            files += found
        elif not path.exists() and any(c in name for c in "*?["):
            found = sorted(glob.glob(name))
            if not found:
                failed.append((len(files), f"{name}: no file matches"))
                found = [name]
            files += found
        else:
            files.append(name)
    return files, failed


def _check_min_confidence(args):
    if not 0.0 <= args.min_confidence <= 1.0:
        raise ValueError(
            f"--min-confidence must lie in [0, 1], got {args.min_confidence:g}"
        )


# files answered at a time: bounds the rows on the model grid and the
# network's activations of one pass. The indexed cells of a pass are held to
# its end whatever its size (indexing._index._holding_indexed), so this need
# not be the size of the indexing's cache of recent rows
_ANSWER_CHUNK = 64


def _answers(model, files, patterns, args):
    """One result dict per file (answer, reason, top-k predictions, closest
    reference) and the notes the model raised; what predict and watch print."""
    if len(patterns) > _ANSWER_CHUNK:
        results, notes = [], []
        for i in range(0, len(patterns), _ANSWER_CHUNK):
            part = slice(i, i + _ANSWER_CHUNK)
            got, said = _answers(model, files[part], patterns[part], args)
            results += got
            notes += [note for note in said if note not in notes]
        return results, notes
    if _weighed_families(model) is None:  # indexes nothing: nothing to hold
        return _answer_chunk(model, files, patterns, args)
    from .indexing._index import _holding_indexed

    # the cells shown are read back from the indexing the answer did: held
    # for the whole pass (a cache of the last 64 rows indexed lost the
    # earlier rows of a longer pass, and each was indexed again)
    with _holding_indexed():
        return _answer_chunk(model, files, patterns, args)


def _answer_chunk(model, files, patterns, args):
    """:func:`_answers` of files answered in one pass."""
    if args.strip_kalpha2:
        patterns = _strip_kalpha2(patterns, files)
    (labels, proba), notes = _noting(model.predict_top_k, patterns, k=args.top_k)
    reasons = _screen(model, patterns)
    matches = _best_matches(model, patterns, _matches_k(args))
    symbol = _space_group_symbols(model)
    lattice_name = _bravais_names(model)
    results = []
    for f, row_l, row_p, reason, match in zip(files, labels, proba, reasons, matches):
        res = {
            "file": str(f),
            "answer": "unknown" if reason else plain_scalar(row_l[0]),
            "reason": reason,
            "predictions": []
            if reason
            else [
                {
                    "label": plain_scalar(lab),
                    **({"symbol": symbol(lab)} if symbol else {}),
                    **({"name": lattice_name(lab)} if lattice_name else {}),
                    "probability": round(float(pr), 4),
                }
                for lab, pr in zip(row_l, row_p)
            ],
        }
        if match is not None and not reason:
            res["match"] = match
        if not reason and row_p[0] < args.min_confidence:
            res["answer"] = "unknown"
            res["reason"] = (
                f"the model is unsure: its top answer has probability "
                f"{row_p[0]:.2f} < --min-confidence {args.min_confidence:g}"
            )
        results.append(res)
    if any(res["predictions"] for res in results):
        every = getattr(args, "cells", False)
        # --cells searches the monoclinic cells too, which the shipped models
        # do not weigh; so does a monoclinic answer (about 0.2 s a pattern):
        # half of the RRUFF minerals' answers are monoclinic
        found = _indexed_cells(model, patterns, also="m" if every else "")
        if found is not None and not every:
            found = _cells_of_answers(model, patterns, results, found)
        _add_cells(results, found, every, _weighed_families(model))
    return results, notes


def _family_names():
    """skxrd.indexing's crystal families, letter -> name, in the order of its
    lattice types (imported here, not with the CLI: ``skxrd --help`` and the
    models that index nothing do without the indexing)."""
    from .indexing._index import _FAMILY

    return _FAMILY


def _indexed_cells(model, patterns, also=""):
    """Per pattern ``(n_peaks, {lattice type: IndexingSolution or None})``
    of the model's own indexing (the cells behind the merits it weighed,
    read back, not indexed again; the families ``also`` searched on the same
    peaks), or None for a model that indexes nothing: a Predictor's, or an
    IndexingClassifier's inside a pipeline (maybe wrapped, as
    :func:`_best_matches` finds the search-match)."""
    from .pretrained._runtime import Predictor

    if isinstance(model, Predictor):
        found = model.cells(patterns, return_n_peaks=True, also=also)
    else:
        from .estimators._indexing import indexing_classifier_of

        clf = indexing_classifier_of(model)
        if clf is None:
            return None
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # noted with the answers
            if hasattr(model, "transform_patterns"):
                X = model.transform_patterns(patterns)
            elif hasattr(model, "steps"):
                X = model[:-1].transform(patterns)
            else:
                X = patterns
        found = clf.cells(X, return_n_peaks=True, also=also)
    if found is None:
        return None
    cells, n_peaks = found
    return list(zip(n_peaks.tolist(), cells))


def _weighed_families(model):
    """The crystal families whose merits the model weighs (letters of
    ``"cthoma"``), or None for a model that indexes nothing."""
    from .pretrained._runtime import Predictor

    if isinstance(model, Predictor):
        indexing = model._indexing
    else:
        from .estimators._indexing import indexing_classifier_of

        indexing = indexing_classifier_of(model)
    return None if indexing is None else str(indexing.families)


def _cells_of_answers(model, patterns, results, found):
    """``found`` with the cells of each answer's family searched where the
    model searched none of it (the monoclinic answers of the shipped
    models), on the same peaks with the same settings."""
    need = {}
    for i, (res, (_, cells)) in enumerate(zip(results, found)):
        lattices = (
            _answer_lattices(res["predictions"][0]["label"])
            if res["predictions"]
            else None
        )
        if lattices and not any(lat in cells for lat in lattices):
            need.setdefault(lattices[0][0], []).append(i)
    found = list(found)
    for family, rows in need.items():
        more = _indexed_cells(model, [patterns[i] for i in rows], also=family)
        for i, row in zip(rows, more):
            found[i] = row
    return found


def _answer_lattices(label):
    """The lattice types whose best cell is shown for an answer: a Bravais
    lattice's own, else those of the crystal family of a crystal system or a
    space group (trigonal: hexagonal); None for other labels."""
    from .crystal import to_crystal_system
    from .indexing import ALL_LATTICE_TYPES

    text = str(label)
    if text in ALL_LATTICE_TYPES:
        return (text,)
    # a crystal system's family letter; trigonal crystals are of the hexagonal
    letters = {name: f for f, name in _family_names().items()} | {"trigonal": "h"}
    family = letters.get(text)
    if family is None:
        try:
            family = letters[str(to_crystal_system(label))]
        except (ValueError, TypeError, KeyError):
            return None
    return tuple(lat for lat in ALL_LATTICE_TYPES if lat[0] == family)


def _cell_record(sol, weighed=None):
    """The JSON form of an :class:`~skxrd.indexing.IndexingSolution`
    (``weighed``: the families the model weighs; whether the cell is of one
    of them is recorded)."""
    from .crystal import lattice_from_parameters

    cell = lattice_from_parameters(sol.a, sol.b, sol.c, sol.alpha, sol.beta, sol.gamma)
    volume = abs(np.linalg.det(cell))
    return {
        "lattice": sol.lattice,
        "family": sol.crystal_family,
        **{k: round(float(getattr(sol, k)), 5) for k in ("a", "b", "c")},
        **{k: round(float(getattr(sol, k)), 3) for k in ("alpha", "beta", "gamma")},
        "volume": round(float(volume), 3),
        "figure_of_merit": round(float(sol.figure_of_merit), 2),
        "n_indexed": int(sol.n_indexed),
        "n_lines": int(sol.n_lines),
        "zero_shift": round(float(sol.zero_shift), 4),
        **({} if weighed is None else {"weighed": sol.lattice[0] in weighed}),
    }


def _same_metric(one, other, tol=0.005):
    """Whether two :class:`~skxrd.indexing.IndexingSolution` give one cell:
    their sorted lengths within ``tol`` (relative), their sorted angles within
    ``tol`` radians."""
    lengths = np.sort([[s.a, s.b, s.c] for s in (one, other)], axis=1)
    angles = np.sort([[s.alpha, s.beta, s.gamma] for s in (one, other)], axis=1)
    return bool(
        np.all(np.abs(lengths[0] - lengths[1]) <= tol * lengths[1])
        and np.all(np.abs(np.radians(angles[0] - angles[1])) <= tol)
    )


#: peaks a primitive cell must explain beyond the centred cell of its lengths
#: to be shown instead: one is often chance (an impurity or Kβ line on one of
#: the many lines the primitive cell adds), two seldom
_PRIMITIVE_MORE_PEAKS = 2


def _shown_cell(cells, lattices):
    """The cell shown for ``lattices``: the best by merit
    (:func:`~skxrd.estimators._indexing_core.best_cell`), except that a
    centred cell gives way to the primitive cell of its family with the same
    lengths and angles where that explains at least two more of the peaks.
    The centring forbids those peaks, and de Wolff's merit, which counts the
    lines a cell allows, can still favour it: on RRUFF minerals an oC cell
    indexed 17 of 20 peaks of a Pnma mineral (M = 63.8) where oP indexed 19
    (M = 41.5). One peak more is not enough: the primitive cell of a large
    centred cubic one adds dozens of lines, and a stray peak falls within the
    tolerance of one of them (spinels and garnets lost their cF and cI
    cells to cP so; ``experiments/README.md``, ``indexed_cells_rruff.py``)."""
    from .estimators._indexing_core import best_cell

    sol = best_cell(cells, lattices)
    if sol is None or sol.lattice[1] == "P":
        return sol
    primitive = sol.lattice[0] + "P"
    other = cells.get(primitive) if primitive in lattices else None
    if (
        other is not None
        and other.n_indexed >= sol.n_indexed + _PRIMITIVE_MORE_PEAKS
        and _same_metric(other, sol)
    ):
        return other
    return sol


def _add_cells(results, found, every_family, weighed=None):
    """Add to each answered result the best indexed cell of its top answer's
    family (``cell``, or None and ``cell_note`` saying why), and with
    ``every_family`` the best cell of each family searched (``cells``; a
    ``cell_note`` where the pattern had too few peaks). ``weighed``: the
    families whose merits the model weighs (each cell records whether it is
    of one)."""
    from .estimators._indexing_core import INDEXING_MIN_LINES

    if found is None:
        return
    names = _family_names()
    for res, (n_peaks, cells) in zip(results, found):
        if not res["predictions"]:
            continue  # not a powder pattern: nothing was answered
        searched = sorted({lat[0] for lat in cells}, key=list(names).index)
        lattices = _answer_lattices(res["predictions"][0]["label"])
        if lattices is not None:
            sol = _shown_cell(cells, lattices)
            res["cell"] = None if sol is None else _cell_record(sol, weighed)
            if sol is None:
                res["cell_note"] = _no_cell_note(lattices, n_peaks, searched)
        if every_family:
            res["cells"] = {}
            for f in searched:
                sol = _shown_cell(cells, [lat for lat in cells if lat[0] == f])
                res["cells"][names[f]] = (
                    None if sol is None else _cell_record(sol, weighed)
                )
            if n_peaks < INDEXING_MIN_LINES:
                res["cell_note"] = _no_cell_note((), n_peaks, searched)


def _no_cell_note(lattices, n_peaks, searched):
    """Why no cell of ``lattices`` is shown: too few peaks, a family the
    model does not index, or none of its cells explains the peaks."""
    from .estimators._indexing_core import INDEXING_MIN_LINES

    if n_peaks < INDEXING_MIN_LINES:
        return (
            f"{n_peaks} peak{'' if n_peaks == 1 else 's'} found; indexing "
            f"needs {INDEXING_MIN_LINES}"
        )
    family, name = lattices[0][0], _family_names()
    if family not in searched:
        names = [name[f] for f in searched]
        return (
            f"the model indexes no {name[family]} cells, only "
            + (f"{', '.join(names[:-1])} and " if len(names) > 1 else "")
            + f"{names[-1]} ones"
        )
    what = lattices[0] if len(lattices) == 1 else name[family]
    return f"no {what} cell explains the {n_peaks} peaks"


def _cell_text(cell):
    """One line of an indexed cell: its lattice, the lengths and angles its
    family has, the merit, the lines indexed and the zero shift."""
    lat, family = cell["lattice"], cell["family"]
    lengths = [f"a = {cell['a']:.4f}"]
    if family in ("orthorhombic", "monoclinic", "triclinic"):
        lengths.append(f"b = {cell['b']:.4f}")
    if family != "cubic":
        lengths.append(f"c = {cell['c']:.4f}")
    angles = {"monoclinic": ("beta",), "triclinic": ("alpha", "beta", "gamma")}
    greek = {"alpha": "α", "beta": "β", "gamma": "γ"}
    text = f"{lat}  {', '.join(lengths)} Å"
    text += "".join(f", {greek[k]} = {cell[k]:.2f}°" for k in angles.get(family, ()))
    merit = cell["figure_of_merit"]
    return (
        f"{text}; M{cell['n_lines']} = {merit:.1f}"
        + (" (weak)" if merit < 10 else "")
        + f", {cell['n_indexed']} of {cell['n_lines']} lines, "
        f"zero shift {cell['zero_shift']:+.3f}°"
        # a family searched for the answer or for --cells, not in the answer
         + ("; not weighed by the model" if cell.get("weighed") is False else "")
    )


def _print_answer(res):
    """The text form of one result of :func:`_answers`."""
    print(res["file"])
    if res["reason"]:
        print(f"  unknown: {res['reason']}")
    for rank, pred in enumerate(res["predictions"], 1):
        note = pred.get("symbol", pred.get("name", ""))
        label = f"{pred['label']} {note}".strip()
        print(f"  {rank:>2}  {label:<18} {pred['probability']:.3f}")
    match = res.get("match")
    if match is not None:
        # the structure-type model: its network answers; the search-match is
        # the space-group model's that weighs the answer
        weighed = (
            f", weighed by a space-group model's {match['weighed_by']}"
            if "weighed_by" in match
            else ""
        )
        print(
            f"  answered by {match['answered_by']}{weighed}; closest reference "
            f"{match['reference']} (correlation {match['similarity']:.3f}, "
            + (
                f"gate score {match['score']:.3f}, "
                if match["score"] != match["similarity"]
                else ""
            )
            + f"threshold {match['threshold']:.2f})"
        )
        if "closest" in match:
            print("  closest references:")
            for ref in match["closest"]:
                label = f"{ref['label']} {ref.get('symbol', '')}".strip()
                print(f"    {ref['similarity']:.3f}  {label:<14} {ref['reference']}")
    if "cell" in res:
        if res["cell"] is not None:
            print(f"  indexed cell {_cell_text(res['cell'])}")
        else:
            print(f"  no indexed cell: {res['cell_note']}")
    if "cells" in res:
        if not any(res["cells"].values()) and "cell_note" in res:
            if "cell" not in res:  # else said above
                print(f"  no indexed cells: {res['cell_note']}")
        else:
            print("  best indexed cell of each family:")
            for family, cell in res["cells"].items():
                print(f"    {family:<13} {_cell_text(cell) if cell else 'none'}")


# what diffractometers write; any other text file is read as well with --suffix
_WATCH_SUFFIXES = (
    ".xy",
    ".xye",
    ".csv",
    ".dat",
    ".txt",
    ".xrdml",
    ".ras",
    ".rasx",
    ".raw",
    ".uxd",
    ".udf",
    ".gsa",
    ".gss",
    ".brml",
    # powder CIF; a structure's CIF (no _pd_ data loop) is passed over
    ".cif",
)


class _FolderWatch:
    """The pattern files of a folder that are new or rewritten since the last
    poll and have stopped growing.

    A file is ready once two polls in a row see the same size and modification
    time (an instrument still writing it changes them); a file rewritten later
    under the same name is ready again. ``ignore_present`` leaves the files
    already there at the start alone.
    """

    def __init__(self, folder, suffixes=_WATCH_SUFFIXES, ignore_present=True):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"{folder} is not a folder")
        self.suffixes = tuple(s.lower() for s in suffixes)
        self._done = dict(self._stamps()) if ignore_present else {}
        self._last = {}

    def _stamps(self):
        for path in sorted(self.folder.iterdir()):
            if path.suffix.lower() not in self.suffixes or path.name.startswith("."):
                continue
            try:
                st = path.stat()
            except OSError:  # removed between listing and stat
                continue
            if path.is_file():
                yield path, (st.st_size, st.st_mtime_ns)

    def poll(self, settle=True):
        """Paths ready to read, in name order; ``settle=False``: every new or
        rewritten file at once (for a folder no one is writing to)."""
        ready, seen = [], {}
        for path, stamp in self._stamps():
            seen[path] = stamp
            if self._done.get(path) == stamp:
                continue
            if settle and self._last.get(path) != stamp:
                continue  # new or still growing: wait for the next poll
            ready.append(path)
            self._done[path] = stamp
        self._last = seen
        return ready


def _cmd_watch(args) -> int:
    import json
    import time

    _check_min_confidence(args)
    _check_answer_options(args)
    if not (math.isfinite(args.interval) and args.interval > 0):
        raise ValueError(
            f"--interval must be a finite number > 0 of seconds, got {args.interval:g}"
        )
    if args.count is not None and args.count < 1:
        raise ValueError(f"--count must be >= 1, got {args.count}")
    suffixes = args.suffix or _WATCH_SUFFIXES
    bad = [s for s in suffixes if not s.startswith(".")]
    if bad:
        raise ValueError(f"--suffix {bad[0]!r} must start with a dot, e.g. .xy")
    watch = _FolderWatch(
        args.folder, suffixes, ignore_present=not (args.existing or args.once)
    )
    start = time.perf_counter()
    model = _load_model(args.model, args.device, args.trust_pickle, light=True)
    if not hasattr(model, "predict_top_k"):
        raise ValueError(f"--model {args.model}: the model has no predict_top_k")
    print(
        f"skxrd watch: {args.model} loaded in {time.perf_counter() - start:.1f} s; "
        f"answering {'the' if args.once else 'new'} pattern files of {args.folder}"
        + ("" if args.once else " (Ctrl-C stops)"),
        file=sys.stderr,
        flush=True,
    )
    note = _matches_note(model, args)  # once, not per file
    if note:
        print(f"skxrd watch: note: {note}", file=sys.stderr, flush=True)
    # a folder of structure CIFs beside the patterns: each passed over in one
    # line, not an error; an explicit --suffix .cif reads every .cif
    sniff_cif = args.suffix is None
    answered = failed = 0
    try:
        while True:
            for path in watch.poll(settle=not args.once):
                try:
                    if sniff_cif and _skipped_structure_cif(
                        path, _max_bytes(args), "watch"
                    ):
                        continue
                    patterns, notes = _read_files(
                        [path], args.wavelength, args.axis, _max_bytes(args), args.block
                    )
                    [res], said = _answers(model, [path], patterns, args)
                except (ValueError, OSError) as exc:  # this file; the watch goes on
                    failed += 1
                    message = _file_error(path, exc)
                    print(f"skxrd watch: {message}", file=sys.stderr, flush=True)
                    continue
                if args.json:
                    print(json.dumps(res))  # one line per file: easy to follow
                else:
                    _print_answer(res)
                sys.stdout.flush()
                for note in notes + said:
                    print(f"skxrd watch: note: {note}", file=sys.stderr, flush=True)
                answered += 1
                if args.count is not None and answered >= args.count:
                    return 0
            if args.once:
                break
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print(f"skxrd watch: stopped after {answered} files", file=sys.stderr)
    return 2 if failed and args.once else 0


def _space_group_symbols(model):
    """``space_group_symbol`` when the model answers space-group numbers (its
    metadata says so: the shipped "space-group" model, ``skxrd train`` with
    ``target = "space_group"``), else None."""
    from .crystal import space_group_symbol

    metadata = getattr(model, "metadata_", None) or {}
    return space_group_symbol if metadata.get("target") == "space_group" else None


# "Name, formula": a formula is one word (the AMCSD's "Aegirine, NaFeSi2O6")
_NAMED_FORMULA = re.compile(r"(.+), [A-Z][^\s,]*")


def _phase_name(name):
    """The phase of a reference name: without its trailing ``(entry)``, and
    of a ``"Mineral, formula"`` name the mineral alone (the AMCSD spells one
    mineral's formula many ways: ``"Aegirine, NaFeSi2O6"`` and ``"Aegirine,
    Si2FeNaO6"``, four of cooperite's compositions)."""
    base = re.sub(r"\s*\([^()]*\)\s*$", "", name)
    named = _NAMED_FORMULA.fullmatch(base)
    return named.group(1) if named else base


def _distinct_phases(similarity, index, labels, name, k):
    """The first ``k`` of one pattern's neighbours (best first) that are
    distinct phases: entries whose names differ beyond a trailing
    ``(...)`` and the formula after a mineral's name (the AMCSD references
    are named ``"Quartz, SiO2 (amcsd-0017992)"``; see :func:`_phase_name`)
    or whose labels differ (iron's α, γ and ε entries are three phases)."""
    seen, kept = set(), []
    for v, j, lab in zip(similarity, index, labels):
        phase = (_phase_name(name(j)), str(lab))
        if phase not in seen:
            seen.add(phase)
            kept.append((v, j, lab))
            if len(kept) == k:
                break
    return kept


def _reference_symbols(model):
    """Symbols for the labels of a search-match's references: space-group
    symbols where the model is one of skxrd's space-group family (its
    metadata's target is a space group, or a crystal system or Bravais
    lattice derived from one: the shipped models' references are labelled
    with space groups), else None (the labels as they are)."""
    metadata = getattr(model, "metadata_", None) or {}
    if metadata.get("target") not in (
        "space_group",
        "crystal_system",
        "bravais_lattice",
    ):
        return None
    return _space_group_label_symbol


def _space_group_label_symbol(label):
    """The Hermann-Mauguin symbol of a space-group number label, "" for a
    label that is none."""
    from .crystal import space_group_symbol

    try:
        number = int(label)
    except (TypeError, ValueError):
        return ""
    return space_group_symbol(number) if 1 <= number <= 230 else ""


def _bravais_names(model):
    """Words for Bravais-lattice symbols ("cF": "cubic F", "hR":
    "rhombohedral") when the model answers Bravais lattices, else None."""
    metadata = getattr(model, "metadata_", None) or {}
    if metadata.get("target") != "bravais_lattice":
        return None

    from .crystal._spacegroups import _family_of_bravais

    def name(label):
        label = str(label)
        if label == "hR":
            return "rhombohedral"
        try:
            return f"{_family_of_bravais(label)} {label[1:]}"
        except (KeyError, IndexError):
            return ""  # not a Bravais symbol

    return name


def _search_match_of(model):
    """``(holder, weighing)``: what carries the search-match whose references
    ``--matches`` lists, or None for a model without one.

    ``holder`` is the model itself where it answers with a search-match (a
    Predictor that has one, or the MatchFirstClassifier of a pipeline, maybe
    inside a CoarseLabelClassifier or an IndexingClassifier). A model that a
    space-group model weighs (a SymmetryWeightedClassifier: the shipped
    structure-type model) has none of its own: ``holder`` is then that
    space-group model's (its Predictor, or its MatchFirstClassifier) and
    ``weighing`` True. The weighing model reads the patterns as the weighed
    one does (both loaders check it), so the patterns go to it as they are.
    """
    from .pretrained._runtime import Predictor

    if isinstance(model, Predictor):
        if model._match is not None:
            return model, False
        other = model._symmetry[0] if model._symmetry is not None else None
        if other is not None and other._match is not None:
            return other, True
        return None
    from .estimators._match import search_match_of, wrapped_estimators

    hybrid = search_match_of(model)
    if hybrid is not None:
        return hybrid, False
    for est in wrapped_estimators(model):
        symmetry = getattr(est, "symmetry_estimator_", None)
        if symmetry is not None:  # a SymmetryWeightedClassifier's
            hybrid = search_match_of(symmetry)
            return None if hybrid is None else (hybrid, True)
    return None


def _matches_note(model, args):
    """The note for ``--matches`` given to a model without a search-match
    (its output has no references to list), else None."""
    if getattr(args, "matches", None) is None or _search_match_of(model):
        return None
    return (
        f"--matches {args.matches}: the model has no search-match against "
        "reference patterns: no closest references to list"
    )


def _matches_k(args):
    """``--matches``, 1 where it was not given."""
    k = getattr(args, "matches", None)
    return 1 if k is None else k


def _best_matches(model, patterns, k=1):
    """Per pattern, the closest reference of a search-match model (a
    MatchFirstClassifier, maybe inside a CoarseLabelClassifier, or the one of
    the space-group model that weighs the model's classes, see
    :func:`_search_match_of`) and which part answered, with ``k > 1`` the
    ``k`` closest phases (``"closest"``: name, similarity, label; the best
    entry of each phase, see :func:`_distinct_phases`); None for every
    pattern of other models.

    Where the search-match is a weighing space-group model's, the answer is
    the model's own network's, weighed: ``"answered_by"`` is ``"network"``
    and ``"weighed_by"`` says which part of the space-group model answered
    (``"search-match"`` where its gate passed, else ``"network"``); the
    references' labels are that model's space groups."""
    from .pretrained._runtime import Predictor

    source = _search_match_of(model)
    if source is None:
        return [None] * len(patterns)
    holder, weighing = source
    # a database holds many entries of one phase (87 of iron in the AMCSD):
    # enough neighbours to find k distinct phases among them
    fetch = 1 if k == 1 else max(20 * k, 50)
    if isinstance(holder, Predictor):
        similarity, index, score, threshold, names, labels = holder.best_matches(
            patterns, fetch
        )
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # noted with the answers
            X = (
                model.transform_patterns(patterns)
                if hasattr(model, "steps")
                else patterns
            )
        from .estimators._core import gate_scores, reference_labels

        hybrid = holder
        matcher = hybrid.matcher_
        similarity, index = hybrid.kneighbors(X, n_neighbors=fetch)
        score = gate_scores(matcher.class_similarities(X), hybrid._margin())
        threshold = float(hybrid.threshold_)
        names = hybrid.reference_names_
        labels = reference_labels(
            index, matcher.classes_, matcher._starts, matcher.reference_index_
        )

    def name(i):
        return str(names[i]) if names is not None else f"reference {i}"

    # a weighing model classifies space groups (SymmetryWeightedClassifier's
    # contract): its references are labelled with them
    symbol = _space_group_label_symbol if weighing else _reference_symbols(model)

    found = []
    for s, i, g, lab in zip(similarity, index, score, labels):
        part = "search-match" if g >= threshold else "network"
        res = {
            "reference": name(i[0]),
            "similarity": round(float(s[0]), 4),
            # the gate's: the similarity, plus (margin gate) its lead over
            # the references of the next class
            "score": round(float(g), 4),
            "threshold": threshold,
            "answered_by": "network" if weighing else part,
            **({"weighed_by": part} if weighing else {}),
        }
        if k > 1:
            res["closest"] = [
                {
                    "reference": name(j),
                    "similarity": round(float(v), 4),
                    "label": plain_scalar(la),
                    **({"symbol": symbol(la)} if symbol else {}),
                }
                for v, j, la in _distinct_phases(s, i, lab, name, k)
            ]
        found.append(res)
    return found


def _screen(model, patterns):
    """Why each pattern is not a powder pattern (None: it is one)."""
    from .pretrained._runtime import Predictor

    if isinstance(model, Predictor):  # its first step is always a resampler
        return model.screen(patterns)
    # the pipelines that screen, as AbstainingClassifier finds them
    from .estimators._abstain import _screener

    screener = _screener(model)
    if screener is None:  # a model without a 2θ grid: no screening
        return [None] * len(patterns)
    return screener.screen(patterns)


def _strip_kalpha2(patterns, files):
    """The patterns with their Kα2 line removed (each file's named radiation)."""
    from .preprocessing import Kalpha2Stripper

    for f, p in zip(files, patterns):
        if p.radiation is None:  # a bare wavelength: which doublet is unknown
            raise ValueError(_no_doublet(f, p))
    return Kalpha2Stripper().transform(patterns)


def _no_doublet(f, p):
    """Why ``--strip-kalpha2`` cannot strip the pattern ``p`` of the file ``f``."""
    return (
        f"--strip-kalpha2: {f} has no named radiation (wavelength "
        f"{p.wavelength} Å); pass --wavelength with the anode's Kα name "
        "(CuKa, MoKa, CoKa...)"
    )


def _refuse_existing_plot(plot, force):
    """An OSError when the ``--plot`` file cannot be written or exists and
    ``--force`` is off (nothing the user has is overwritten), a ValueError
    when matplotlib writes no figure of its suffix: all found before the
    work."""
    if not plot:
        return
    _check_output(plot, "--plot", force)
    suffix = Path(plot).suffix.lower()
    if suffix:  # none: matplotlib writes a PNG
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        if suffix[1:] not in formats:
            raise ValueError(
                f"--plot {plot}: matplotlib writes no {suffix} figures; use "
                + ", ".join(f".{f}" for f in sorted(formats))
            )


def _plot_predictions(model, patterns, out, force, results=None, top_k=3):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .inspection import SaliencyDisplay

    out = Path(out)
    _refuse_existing_plot(out, force)  # again: it may have appeared meanwhile
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(
        len(patterns), 1, figsize=(10, 3.2 * len(patterns)), squeeze=False
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # reported with the table
        for i, (p, ax) in enumerate(zip(patterns, axes[:, 0])):
            reason = results[i]["reason"] if results is not None else None
            if reason:  # as the table says: no answer, so no map of one
                ax.plot(p.x, p.intensity, lw=0.8, color="0.3")
                ax.set_xlabel("2θ (°)" if p.axis == "two_theta" else "Q (1/Å)")
                ax.set_title(f"{p.name}: unknown: {reason}", fontsize=9)
                continue
            # the answers the table lists (--top-k), under each panel's title
            SaliencyDisplay.from_estimator(model, patterns, index=i, ax=ax, top_k=top_k)
            ax.set_title(f"{p.name}: {ax.get_title()}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"wrote {out}", file=sys.stderr)


def _read_label_table(
    path,
    column,
    wavelength,
    file_column="file",
    file_template=None,
    wavelength_column="wavelength",
    axis=None,
    max_bytes=None,
    block=None,
):
    """Patterns and labels listed in a CSV (a file column, a label column...).

    The file of a row is its ``file_column`` value, or ``file_template``
    formatted with the row (``"XYdata/{Material}.xy"``); relative paths are
    relative to the CSV. ``wavelength_column`` (when present) gives each
    file's wavelength, else ``wavelength``.
    """
    import csv

    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:  # a binary file, an .xlsx...
        raise ValueError(
            f"{path} is not a labels CSV (UTF-8 text; or an .npz): {exc}"
        ) from None
    if not rows:
        raise ValueError(f"{path} lists no files")
    needed = ([] if file_template else [file_column]) + [column]
    columns = sorted(k for k in rows[0] if k is not None)
    for name in needed:
        if name not in rows[0]:
            option = "--label-column" if name == column else "--file-column"
            raise ValueError(
                f"{path} has no column {name!r} (choose one with {option}, or "
                f"name the files with --file-template); columns: {columns}"
            )
    # (line in the file, row): the header is line 1
    numbered = [(i + 2, r) for i, r in enumerate(rows) if (r[column] or "").strip()]
    if not numbered:  # rows without a label are skipped: here, every row
        raise ValueError(
            f"{path}: none of its {len(rows)} rows has a label in column {column!r}"
        )
    files, patterns, notes = [], [], []
    for line, r in numbered:
        if None in r:  # more fields than the header names
            raise ValueError(
                f"row {line} of {path} has {len(r) - 1 + len(r[None])} fields; "
                f"the header names {len(r) - 1}"
            )
        if file_template:
            try:
                name = file_template.format(**r)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"--file-template {file_template!r} does not fit row {line} of "
                    f"{path}: {exc!r}; columns: {columns}"
                ) from None
        else:
            name = (r[file_column] or "").strip()
            if not name:
                raise ValueError(
                    f"row {line} of {path} names no file ({file_column!r})"
                )
        f = Path(name)
        f = f if f.is_absolute() else path.parent / f
        lam = (r.get(wavelength_column) or "").strip() or wavelength
        read, said = _read_files([f], lam, axis, max_bytes, block)
        patterns.extend(read)
        notes.extend(said)
        files.append(str(f))
    labels = [r[column].strip() for _, r in numbered]
    return files, patterns, labels, notes


def _read_label_npz(path, column, wavelength):
    """Patterns and labels of an .npz: ``X`` with ``y`` (or ``column``), and
    the notes of reading them.

    With a ``two_theta`` array (and a ``wavelength`` scalar: Å or a radiation
    name, or ``wavelength``) the rows are measured patterns on that grid;
    without it they are patterns on the model's grid. An array of the wrong
    kind or shape is a ValueError naming the file and the array.
    """
    import zipfile

    from .io import Pattern

    if not zipfile.is_zipfile(path):  # np.load would advise unpickling it
        raise ValueError(f"{path} is not an .npz file (numpy's zip of arrays)")
    with np.load(path, allow_pickle=False) as data:
        key = column or "y"
        for name in ("X", key):
            if name not in data:
                raise ValueError(
                    f"{path} has no array {name!r}"
                    + ("" if name == "X" else " (choose one with --label-column)")
                    + f"; arrays: {sorted(data.files)}"
                )
        try:
            X, y = data["X"], data[key]
        except ValueError as exc:  # object arrays: only a pickle reads them
            raise ValueError(
                f"{path}: {exc}; store the labels as strings or numbers"
            ) from None
        # found here, naming the file and the array: a text X, a 2-D y or a
        # wavelength per row were tracebacks or messages about other arrays
        if X.ndim != 2 or not _is_real(X):
            raise ValueError(
                f"{path}: X must be a 2-D array of numbers (one pattern per row), "
                f"got {X.dtype} of shape {X.shape}"
            )
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(
                f"{path}: {key} must be a 1-D array of one label per row of X "
                f"({len(X)}), got shape {y.shape}"
            )
        if "two_theta" not in data:
            return X, y, []
        tt = data["two_theta"]
        if tt.ndim != 1 or not _is_real(tt):
            raise ValueError(
                f"{path}: two_theta must be a 1-D array of numbers (degrees), got "
                f"{tt.dtype} of shape {tt.shape}"
            )
        lam = _wavelength_arg(wavelength) if wavelength else None
        if lam is None and "wavelength" in data:
            lam = _npz_wavelength(path, data["wavelength"])
        if lam is None:
            raise ValueError(f"{path} states no wavelength; pass --wavelength")
    if X.shape[1] != len(tt):
        raise ValueError(
            f"{path}: X has shape {X.shape}; rows must have {len(tt)} points, one "
            "per two_theta value"
        )
    name = Path(path).stem
    patterns, notes = [], []
    for i, x in enumerate(X):
        try:
            p, said = _noting(
                Pattern, tt, np.maximum(x, 0.0), wavelength=lam, name=f"{name}-{i}"
            )
        except ValueError as exc:
            raise ValueError(f"{path}: row {i} of X: {exc}") from None
        patterns.append(p)
        notes.extend(note for note in said if note not in notes)  # once, not per row
    return patterns, y, notes


def _is_real(a):
    """Whether the array ``a`` holds real numbers (not text, booleans or
    complex numbers)."""
    return np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)


def _npz_wavelength(path, value):
    """An .npz's ``wavelength`` array: one number of Å or a radiation name."""
    if value.ndim != 0 or not (_is_real(value) or value.dtype.kind == "U"):
        raise ValueError(
            f"{path}: wavelength must be one number (Å) or a radiation name such "
            f"as CuKa, got {value.dtype} of shape {value.shape}; pass --wavelength"
        )
    if value.dtype.kind != "U":
        return float(value)
    from .utils._radiation import get_radiation

    lam = _wavelength_arg(str(value))
    try:
        get_radiation(lam)
    except ValueError as exc:
        raise ValueError(f"{path}: wavelength {str(value)!r}: {exc}") from None
    return lam


def _cmd_evaluate(args) -> int:
    import json

    from .pretrained._evaluate import evaluate_model

    _check_answer_options(args)  # --top-k, --wavelength: named, before the work
    _refuse_existing_plot(args.plot, args.force)  # before the work, not after it
    if Path(args.data).is_dir():
        raise ValueError(f"DATA {args.data} is a folder, not a labels CSV or .npz")
    model = _load_model(args.model, args.device, args.trust_pickle)
    if Path(args.data).suffix.lower() == ".npz":
        X, y, notes = _read_label_npz(args.data, args.label_column, args.wavelength)
        files = None
        _check_model_grid(model, X, args.data)
    else:
        column = args.label_column or (
            (getattr(model, "metadata_", {}) or {}).get("target") or "label"
        )
        files, X, y, notes = _read_label_table(
            args.data,
            column,
            args.wavelength,
            file_column=args.file_column,
            file_template=args.file_template,
            wavelength_column=args.wavelength_column,
            axis=args.axis,
            max_bytes=_max_bytes(args),
            block=args.block,
        )
        if args.strip_kalpha2:
            X = _strip_kalpha2(X, files)
    report, said = _noting(evaluate_model, model, X, y, k=args.top_k)
    for note in notes + said:
        print(f"skxrd evaluate: note: {note}", file=sys.stderr)
    if files is not None:
        report["files"] = files
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(
            f"{report['n']} patterns: top-1 {report['top1']:.3f}"
            + "".join(
                f", top-{k} {report[f'top{k}']:.3f}"
                for k in (2, 3, 5)
                if f"top{k}" in report
            )
        )
        print(report["classification_report"])
    if args.plot:
        _plot_confusion(y, report["predicted"], args.plot, args.force)
    return 0


def _check_model_grid(model, X, path):
    """Rows of an .npz without a ``two_theta`` array are on the model's grid:
    the number of points of each is checked here, naming the file and what
    to add (the model's resampler named its own step and no file)."""
    if not isinstance(X, np.ndarray):
        return  # measured patterns, resampled by the model
    steps = getattr(model, "steps", None)
    grid = getattr(steps[0][1], "grid_", None) if steps else None
    if grid is not None and X.shape[1] != len(grid):
        raise ValueError(
            f"{path} has no two_theta array, so its rows must be patterns on the "
            f"model's grid of {len(grid)} points; X has {X.shape[1]} (add the "
            "two_theta and wavelength arrays of measured patterns)"
        )


def _plot_confusion(y, predicted, out, force):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .metrics import CrystalSystemConfusionDisplay

    out = Path(out)
    _refuse_existing_plot(out, force)  # again: it may have appeared meanwhile
    out.parent.mkdir(parents=True, exist_ok=True)
    display = CrystalSystemConfusionDisplay.from_predictions(y, predicted)
    display.figure_.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(display.figure_)
    print(f"wrote {out}", file=sys.stderr)


def _add_simulation_args(p):
    p.add_argument(
        "--radiation",
        default="CuKa",
        help="CuKa (default), CuKa1, MoKa, ..., xray, neutron, or a wavelength (Å)",
    )
    p.add_argument(
        "--wavelength",
        type=float,
        default=None,
        help="wavelength (Å) with --radiation xray|neutron",
    )
    p.add_argument(
        "--two-theta-min", type=float, default=5.0, help="first 2θ, degrees (5)"
    )
    p.add_argument(
        "--two-theta-max", type=float, default=90.0, help="last 2θ, degrees (90)"
    )
    p.add_argument("--step", type=float, default=0.02, help="2θ step, degrees (0.02)")
    p.add_argument(
        "--crystallite-size",
        type=float,
        default=None,
        metavar="NM",
        help="crystallite size in nm, for Scherrer broadening (default: none, "
        "the instrument's peak width only)",
    )
    p.add_argument(
        "--kbeta",
        type=float,
        default=0.0,
        metavar="RATIO",
        help="the anode's Kβ1 line at this ratio of Kα1's intensity (a β filter "
        "leaves 0.01-0.02, an unfiltered tube about 0.2); needs a named anode "
        "line such as CuKa (default 0: none)",
    )
    p.add_argument(
        "--polarization",
        type=float,
        default=None,
        metavar="P",
        help="the fraction P of a polarized X-ray beam polarized perpendicular "
        "to the diffraction plane, factor P + (1-P) cos²2θ (a synchrotron with a "
        "vertical diffraction plane: about 0.95-0.99; default: an unpolarized "
        "tube, (1 + cos²2θ)/2)",
    )
    p.add_argument(
        "--n-jobs", type=int, default=None, help="workers (default 1; -1: all cores)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_model(p):
    p.add_argument(
        "--model",
        default="crystal-system",
        help="crystal-system (default), bravais-lattice, space-group, "
        "structure-type, or a model file (.pt from skxrd train, or a .json "
        "view of model files; a .joblib pickle with --trust-pickle)",
    )
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow --model to be a joblib/pickle file; loading a pickle runs "
        "the code it holds, so only for files you made or trust",
    )


def _add_strip_kalpha2(parser):
    """The reading options of predict, watch and evaluate: ``--axis``,
    ``--max-file-mb``, ``--block`` and ``--strip-kalpha2``."""
    parser.add_argument(
        "--max-file-mb",
        type=float,
        default=None,
        metavar="MB",
        help="refuse pattern files larger than this (default 100 MB, more than "
        "a diffractometer writes; 0: no limit)",
    )
    parser.add_argument(
        "--axis",
        choices=("two_theta", "q"),
        default=None,
        help="what the first column of text files holds: two_theta (degrees) or "
        "q (1/Å); default: the file's header, else two_theta",
    )
    parser.add_argument(
        "--block",
        default=None,
        metavar="NAME",
        help="the data block to read of a powder CIF that holds several "
        "patterns: its name (with or without data_), or its index from 0 "
        "among the pattern blocks",
    )
    parser.add_argument(
        "--strip-kalpha2",
        action="store_true",
        help="remove the Kα2 line first, of the model's own anode too (Kα1 + Kα2 "
        "files; another anode's doublet, e.g. --wavelength MoKa for a Cu Kα "
        "model, is stripped without it)",
    )


def _add_answer_args(p):
    """What predict and watch answer with: the model, the wavelength, top-k,
    the confidence floor and the reading options."""
    _add_model(p)
    p.add_argument(
        "--wavelength",
        default=None,
        help="wavelength in Å or a name (CuKa, MoKa...); overrides the files'",
    )
    p.add_argument("--top-k", type=int, default=5, help="answers per file (5)")
    p.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        metavar="P",
        help="answer 'unknown' when the top answer's probability is below P "
        "(default 0: always answer; inputs that are not powder patterns are "
        "'unknown' regardless)",
    )
    _add_strip_kalpha2(p)
    p.add_argument(
        "--matches",
        type=int,
        default=None,  # None: 1, and no note for a model without a search-match
        metavar="K",
        help="with a search-match model (the shipped ones; structure-type: its "
        "space-group model's), list the K closest references with their "
        "correlations and labels: the known phases the pattern resembles "
        "(default 1: the closest only, on one line)",
    )
    p.add_argument(
        "--cells",
        action="store_true",
        help="with a model that indexes (the shipped crystal-system, "
        "space-group and bravais-lattice ones), print the best indexed cell "
        "of every lattice family it searched, not only the top answer's, and "
        "search the monoclinic cells too (which the shipped models do not "
        "weigh; about 0.3 s more a file)",
    )


_DEVICE_HELP = (
    "where the model runs: auto (default: a CUDA GPU where there is one, else "
    "the CPU), cpu, cuda, cuda:1..."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skxrd", description="Diffraction patterns to crystal symmetry."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "predict",
        help="classify measured pattern files (top-k with probabilities)",
        description="Read each file (text .xy/.xye/.csv/.dat, .xrdml, .ras, .rasx, "
        "Bruker .raw, .uxd and .brml, GSAS raw data, Philips .udf, powder .cif), "
        "resample it through Q onto the model's grid and print the k most "
        "probable classes with their probabilities. A FOLDER stands for its "
        "pattern files (those skxrd watch answers). A file that cannot be read "
        "is named on stderr and the others are answered (exit status 2).",
    )
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="measured patterns, folders of them, or patterns such as '*.xy'",
    )
    _add_answer_args(p)
    p.add_argument(
        "--plot", default=None, help="PNG: patterns with saliency maps of the answers"
    )
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON instead")
    output.add_argument(
        "--csv",
        action="store_true",
        help="print CSV instead: a row per file, the same columns whatever "
        "the model (for spreadsheets)",
    )
    p.add_argument("--device", default="auto", help=_DEVICE_HELP)
    p.add_argument("--force", action="store_true", help="replace an existing plot")
    p.set_defaults(func=_cmd_predict)
    p = sub.add_parser(
        "watch",
        help="answer each pattern file that appears in a folder (the model loads once)",
        description="Load the model once, then answer every pattern file that "
        "an instrument writes into FOLDER (or rewrites) as soon as it has stopped "
        "growing, as skxrd predict would; files already there are left alone "
        "unless --existing. An unreadable file is reported and skipped. A .cif "
        "file is answered when it holds powder data (a _pd_meas_* or _pd_proc_* "
        "loop); a structure CIF is passed over with one line, not an error "
        "(with --suffix .cif every .cif file is read, and a structure CIF is "
        "an unreadable file).",
    )
    p.add_argument("folder", metavar="FOLDER", help="where the patterns appear")
    _add_answer_args(p)
    p.add_argument(
        "--json", action="store_true", help="print one JSON object per file and line"
    )
    p.add_argument("--device", default="auto", help=_DEVICE_HELP)
    p.add_argument(
        "--interval", type=float, default=1.0, help="seconds between looks (1)"
    )
    p.add_argument(
        "--suffix",
        action="append",
        default=None,
        help="file suffix to answer (repeatable; default: "
        + " ".join(_WATCH_SUFFIXES)
        + ", structure CIFs passed over)",
    )
    p.add_argument(
        "--existing", action="store_true", help="answer the files already there too"
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="answer the files there now and stop (exit status 2 if one failed)",
    )
    p.add_argument(
        "--count", type=int, default=None, metavar="N", help="stop after N answers"
    )
    p.set_defaults(func=_cmd_watch)
    p = sub.add_parser(
        "evaluate",
        help="score a model on labelled measured files or an .npz dataset",
        description="DATA is a CSV with a file column, a label column and an "
        "optional wavelength column (paths relative to the CSV; the columns are "
        "chosen by option), or an .npz with arrays X and y (or --label-column): "
        "patterns on the model grid, or on the grid of a two_theta array at its "
        "wavelength (a 'wavelength' scalar or --wavelength).",
    )
    p.add_argument("data", metavar="DATA", help="labels CSV or .npz")
    _add_model(p)
    p.add_argument(
        "--label-column",
        default=None,
        help="CSV column (or .npz array) of the labels (default: the model's "
        "target, e.g. crystal_system; for an .npz: y)",
    )
    p.add_argument(
        "--file-column",
        default="file",
        help="CSV column of the pattern files (default: file)",
    )
    p.add_argument(
        "--file-template",
        default=None,
        help="the file of each row from its columns instead, e.g. "
        "'XYdata/{Material}.xy'",
    )
    p.add_argument(
        "--wavelength-column",
        default="wavelength",
        help="CSV column of each file's wavelength, when there is one "
        "(default: wavelength)",
    )
    p.add_argument("--wavelength", default=None, help="for files without one")
    _add_strip_kalpha2(p)
    p.add_argument("--top-k", type=int, default=5, help="top-k accuracies up to k (5)")
    p.add_argument("--plot", default=None, help="PNG: crystal-system confusion matrix")
    p.add_argument("--json", action="store_true", help="print JSON instead")
    p.add_argument("--device", default="auto", help=_DEVICE_HELP)
    p.add_argument("--force", action="store_true", help="replace an existing plot")
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser(
        "simulate",
        help="simulate powder patterns of CIF files",
        description="Simulate the powder pattern of each CIF file into one .csv "
        "or .npz file, which records the wavelength.",
    )
    p.add_argument("cif", nargs="+", help="CIF files")
    p.add_argument("-o", "--output", required=True, help="out.csv or out.npz")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    _add_simulation_args(p)
    p.set_defaults(func=_cmd_simulate)
    p = sub.add_parser(
        "train",
        help="train a pattern classifier on synthetic data from a TOML config",
        description="Generate the synthetic patterns a config describes, train "
        "its pipeline, score the held-out [test] draw and write a model file "
        "(weights and parameters) that `skxrd predict --model FILE` uses.",
    )
    p.add_argument("config", help="TOML config (see skxrd/pretrained/configs/)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.pt)")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument("--cache", default=None, help="folder caching the generated data")
    p.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="generation workers (default 1; -1: all cores)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument(
        "--resume",
        default=None,
        metavar="MODEL",
        help="continue from a model of this config trained before (a model file, "
        "e.g. an earlier -o output or a shipped model): another max_epochs epochs "
        "from its weights, with a fresh learning-rate cycle",
    )
    p.add_argument(
        "--device",
        default=None,
        help="where to train: cpu, cuda, cuda:1... (default: the config's)",
    )
    p.add_argument(
        "--checkpoint-dir",
        default=None,
        metavar="DIR",
        help="save the training state after every epoch; the same command run "
        "again (best with the same --cache) resumes an interrupted run at its "
        "last finished epoch, or goes straight to the steps after a finished "
        "network",
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress bars nor epoch table"
    )
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser(
        "demo",
        help="the tour: simulate, de-duplicate, cross-validate, grid-search, save, "
        "and classify the bundled measured patterns",
        description="Runs in under 10 minutes on 2 CPU cores (--quick: under one "
        "minute, smaller data) and writes its figures to --output.",
    )
    p.add_argument(
        "-o", "--output", default="demo_output", help="figure folder (demo_output)"
    )
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    p.add_argument("--force", action="store_true", help="replace existing figures")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``skxrd`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``skxrd``; None: ``sys.argv[1:]``.

    Returns
    -------
    status : int
        The exit status: 0 when the command did its work; 2 for an error in
        what the user gave (an option, a file that cannot be read, a config,
        an output that exists without ``--force``), reported in one line on
        stderr before anything is written (argparse's usage errors exit with
        2 as well; ``skxrd predict`` names each file it cannot read and
        answers the others); 130 when ``skxrd train`` with ``--checkpoint-dir`` was
        interrupted. A failure of skxrd itself during the work is raised with
        its traceback, which Python ends with exit status 1.

    Examples
    --------
    >>> import os, tempfile
    >>> from skxrd.datasets import load_example_crystal
    >>> folder = tempfile.mkdtemp()
    >>> cif = os.path.join(folder, "si.cif")
    >>> _ = load_example_crystal("Si").to_cif(cif)
    >>> main(["simulate", cif, "-o", os.path.join(folder, "si.npz"), "--quiet"])
    wrote 1 pattern of 4250 points to ...si.npz
    0
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:
        # OSError: a folder given for a file, no permission... (FileNotFoundError
        # and FileExistsError among them): a user's error, not skxrd's
        # PatternFormatError is a ValueError: it names the file and the line
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"skxrd {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
