"""Command-line interface: ``skxrd simulate`` and ``skxrd demo``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

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
    )


def _cmd_simulate(args) -> int:
    from .crystal import Crystal

    out = Path(args.output)
    if out.suffix not in (".csv", ".npz"):
        raise SystemExit(f"skxrd simulate: output {out} must end in .csv or .npz")
    if out.exists() and not args.force:
        raise SystemExit(f"skxrd simulate: {out} exists; use --force to replace it")
    crystals = []
    for path in args.cif:
        try:
            crystals.append(Crystal.from_cif(path))
        except (ValueError, FileNotFoundError) as exc:
            raise SystemExit(f"skxrd simulate: {exc}") from None
    sim = _simulator_from_args(args)
    X = sim.transform(crystals)
    names = [Path(p).stem for p in args.cif]
    if out.suffix == ".npz":
        np.savez_compressed(out, X=X, two_theta=sim.two_theta, names=np.array(names))
    else:
        header = ",".join(["two_theta"] + names)
        np.savetxt(
            out,
            np.column_stack([sim.two_theta, X.T]),
            delimiter=",",
            header=header,
            comments="",
            fmt="%.6g",
        )
    noun = "pattern" if len(crystals) == 1 else "patterns"
    print(f"wrote {len(crystals)} {noun} of {X.shape[1]} points to {out}")
    return 0


def _cmd_demo(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .datasets import load_example_crystal
    from .simulation import PowderSimulator

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    names = ["Si", "NaCl", "ZnO", "TiO2-rutile", "Al2O3", "LiCoO2"]
    crystals = [load_example_crystal(n) for n in names]

    print("skxrd demo: powder patterns of well-known crystals (Cu Kα1 + Kα2)\n")
    sim = PowderSimulator(radiation="CuKa")
    X = sim.transform(crystals)
    peaks = PowderSimulator(radiation="CuKa1").peaks(crystals)
    for name, pl in zip(names[:2], peaks):
        print(f"{name}: strongest lines\n{pl.to_table(5)}\n")

    fig, ax = plt.subplots(figsize=(10, 7))
    for i, (name, pattern, pl) in enumerate(zip(names, X, peaks)):
        base = 1.15 * i
        ax.plot(sim.two_theta, pattern + base, lw=0.8)
        ax.text(89, base + 0.35, f"{name} ({crystals[i].space_group})", ha="right")
        for j in np.argsort(-pl.intensity)[:3]:
            h, k, l = pl.hkl[j]
            peak = pattern[np.abs(sim.two_theta - pl.two_theta[j]).argmin()]
            ax.annotate(
                f"{h}{k}{l}",
                (pl.two_theta[j], base + peak),
                fontsize=7,
                ha="center",
                va="bottom",
            )
    ax.set(
        xlabel="2θ (degrees, Cu Kα)",
        ylabel="intensity (offset)",
        yticks=[],
        title="Simulated powder patterns (skxrd)",
        xlim=(5, 90),
    )
    fig.tight_layout()
    fig.savefig(out / "powder_patterns.png", dpi=120)
    plt.close(fig)

    # The same crystal seen by three probes, on a common Q axis.
    corundum = load_example_crystal("Al2O3")
    q_grid = dict(q_range=(1.0, 6.0), q_step=0.002)
    fig, ax = plt.subplots(figsize=(10, 4))
    for i, (label, kw) in enumerate(
        [
            ("Cu Kα", dict(radiation="CuKa")),
            ("Mo Kα", dict(radiation="MoKa")),
            ("neutrons 1.54 Å", dict(radiation="neutron", wavelength=1.54)),
        ]
    ):
        s = PowderSimulator(**kw, **q_grid)
        ax.plot(s.q, s.transform([corundum])[0] + 1.1 * i, lw=0.8, label=label)
    ax.set(xlabel="Q (Å⁻¹)", yticks=[], title="Corundum: X-rays and neutrons")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "radiations.png", dpi=120)
    plt.close(fig)

    # Scherrer broadening.
    si = load_example_crystal("Si")
    fig, ax = plt.subplots(figsize=(10, 4))
    for size in (100, 20, 5):
        s = PowderSimulator(crystallite_size=size, normalize="area")
        ax.plot(s.two_theta, s.transform([si])[0], lw=0.8, label=f"{size} nm")
    ax.set(
        xlabel="2θ (degrees)",
        yticks=[],
        xlim=(25, 60),
        title="Si: crystallite-size broadening",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "broadening.png", dpi=120)
    plt.close(fig)

    many = crystals * 100
    t = time.perf_counter()
    sim.transform(many)
    dt = time.perf_counter() - t
    print(
        f"simulated {len(many)} patterns of {len(sim.two_theta)} points in "
        f"{dt:.2f} s ({len(many) / dt:.0f} patterns/s on one core)"
    )
    print(
        f"figures written to {out}/: powder_patterns.png, radiations.png, "
        "broadening.png"
    )
    return 0


def _add_simulation_args(p):
    p.add_argument(
        "--radiation",
        default="CuKa",
        help="CuKa, CuKa1, MoKa, ..., xray, neutron, or a wavelength (Å)",
    )
    p.add_argument(
        "--wavelength",
        type=float,
        default=None,
        help="wavelength (Å) with --radiation xray|neutron",
    )
    p.add_argument("--two-theta-min", type=float, default=5.0)
    p.add_argument("--two-theta-max", type=float, default=90.0)
    p.add_argument("--step", type=float, default=0.02)
    p.add_argument("--crystallite-size", type=float, default=None, help="nm")
    p.add_argument("--n-jobs", type=int, default=None)
    p.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skxrd", description="Diffraction patterns to crystal symmetry."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("simulate", help="simulate powder patterns of CIF files")
    p.add_argument("cif", nargs="+", help="CIF files")
    p.add_argument("-o", "--output", required=True, help="out.csv or out.npz")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    _add_simulation_args(p)
    p.set_defaults(func=_cmd_simulate)
    p = sub.add_parser("demo", help="simulate and plot a few patterns")
    p.add_argument("-o", "--output", default="demo_output", help="figure folder")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``skxrd`` command.

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
    except ValueError as exc:
        print(f"skxrd {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
