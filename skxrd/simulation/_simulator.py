"""The :class:`PowderSimulator` transformer."""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from tqdm.auto import tqdm

from ..crystal import Crystal, as_crystals
from ..utils._parallel import parallel_map
from ..utils._radiation import Radiation, get_radiation
from ..utils._validation import check_bool, check_int, check_positive, check_real
from ._peaks import (
    MAX_REFLECTIONS,
    PeakList,
    g_range_for,
    limit_tolerance,
    make_peak_list,
    structure_settings,
)
from ._physics import PROFILES, fwhm_and_eta, lorentz_polarization, profile_values
from ._scattering import warn_form_factor_range, warn_xray_stand_ins

__all__ = ["PowderSimulator", "render_peaks"]


class PowderSimulator(TransformerMixin, BaseEstimator):
    """Simulate powder diffraction patterns of crystals (X-ray or neutron).

    Kinematic intensities ``I = Σ_lines w · m|F|² · LP(θ)`` with atomic form
    factors (or coherent neutron scattering lengths), per-atom Debye–Waller
    factors, the Lorentz-polarization factor of Bragg–Brentano geometry, the Kα2
    doublet for named anode lines, and Gaussian, Lorentzian or pseudo-Voigt
    (Thompson–Cox–Hastings) profiles with Caglioti and Scherrer broadening.

    The transformer is stateless: ``transform`` works without ``fit``.

    Parameters
    ----------
    radiation : str or float, default="CuKa"
        ``"CuKa"`` (Kα1 + Kα2), ``"CuKa1"`` (single line); likewise ``Co``,
        ``Mo``, ``Ag``, ``Cr``, ``Fe``; ``"xray"`` or ``"neutron"`` together with
        ``wavelength``; or an X-ray wavelength in Å.
    wavelength : float, optional
        Wavelength (Å) for ``radiation="xray"`` or ``"neutron"``.
    two_theta_range : (float, float), default=(5, 90)
        First and last-plus-one-step 2θ (degrees) of the output grid.
    two_theta_step : float, default=0.02
        Grid step in degrees; the default grid has 4250 points.
    q_range : (float, float), optional
        Use a grid in Q = 4π sin θ / λ (Å⁻¹) instead of 2θ, with λ the primary
        wavelength (Kα1 of a doublet); it must lie within [0, 4π/λ].
    q_step : float, optional
        Q grid step (Å⁻¹); required with ``q_range``.
    profile : {"pseudo-voigt", "gaussian", "lorentzian"}, default="pseudo-voigt"
        Peak shape. The pseudo-Voigt combines the Gaussian and Lorentzian widths
        as Thompson–Cox–Hastings.
    eta : float, optional
        Fixed Lorentzian fraction of the pseudo-Voigt; by default TCH's.
    caglioti_uvw : (float, float, float), default=(0.01, -0.003, 0.005)
        Gaussian ``FWHM² = U tan²θ + V tanθ + W`` (degrees²).
    lorentzian_xy : (float, float), default=(0.0, 0.0)
        Lorentzian ``FWHM = X tanθ + Y / cosθ`` (degrees).
    crystallite_size : float, optional
        Crystallite size in nm for Scherrer broadening (Lorentzian).
    scherrer_k : float, default=0.9
        Scherrer shape constant.
    profile_cutoff : float, default=20.0
        Profiles are evaluated within this many FWHM of the centre (Gaussian-only
        profiles within 3 FWHM, where they are below 2e-11 of the maximum).
    monochromator_angle : float, default=0.0
        Monochromator 2θ (degrees) in the polarization factor (graphite
        with Cu Kα: 26.6).
    lorentz_polarization : bool, default=True
        Apply the Lorentz-polarization factor.
    debye_waller : bool, default=True
        Apply each atom's isotropic B.
    overall_b : float, default=0.0
        Extra overall B (Å²) applied to all intensities as ``exp(-2 B s²)``.
    anomalous : bool, default=False
        Include the anomalous terms f' + i f'' at the primary energy (X-rays).
    preferred_orientation : (int, int, int), optional
        Preferred-orientation direction (the normal of this hkl plane).
    march_r : float, default=1.0
        March–Dollase parameter (1 = random powder, < 1 platelets, > 1 needles),
        within [0.001, 1000].
    normalize : {"max", "area", None}, default="max"
        Scale each pattern to a maximum of 1, to unit sum, or leave raw.
    backend : {"numpy", "torch"}, default="numpy"
        ``"torch"`` batches crystals on ``device`` (a GPU when there is one).
    device : str, default="auto"
        Torch device for ``backend="torch"``: ``"auto"`` picks CUDA if available.
    batch_size : int, default=256
        Crystals per torch batch.
    n_jobs : int, optional
        Parallel workers through joblib (numpy backend), so that
        ``joblib.parallel_config(backend="dask")`` distributes the work.
    verbose : bool, default=False
        Show a progress bar.
    max_reflections : int, default=20_000_000
        The most hkl that one crystal's search box (all hkl up to the largest
        ``1/d`` of the range, one of each Friedel pair) may hold. A crystal
        needing more is refused with an error before anything is allocated:
        screening the box takes about 200 bytes per hkl (4 GB at the default),
        in both backends. Raise it where the memory is there, e.g. for a 70 Å
        cell with Ag Kα up to 150° 2θ (56 million).
    kbeta : float, default=0.0
        Intensity of the anode's Kβ1 line relative to Kα1 (named anode lines
        only): each reflection also appears at ``sin θβ = sin θα · λβ / λα``,
        weaker by this ratio (and by its own Lorentz-polarization factor). A
        β filter (nickel for copper) leaves about 0.01–0.02, an unfiltered tube
        about 0.2; a monochromator removes it (0). Within [0, 1]; refused for a
        single-wavelength beam (a wavelength in Å, ``"xray"`` or
        ``"neutron"``), whose Kβ line is not known. The wavelengths are those
        of :attr:`Radiation.kbeta` (Cu 1.392234 Å).
    polarization : float, optional
        Polarization of the incident X-ray beam: the fraction P of it polarized
        perpendicular to the diffraction plane, within [0, 1]. The polarization
        factor is then ``P + (1 - P) cos²2θ`` instead of the unpolarized
        ``(1 + cos²2θ) / 2``: a synchrotron beam is polarized in the horizontal
        plane, so with a vertical diffraction plane P is near 1 (0.95–0.99; 1
        leaves the Lorentz factor alone), and with a horizontal one near 0.
        P = 0.5 is an unpolarized beam (GSAS-II's ``Polariz.`` instrument
        parameter has this meaning). With ``monochromator_angle``, the
        monochromator is taken to diffract in the sample's diffraction plane,
        before the sample: ``(P + (1 - P) cos²2θm cos²2θ) / (P + (1 - P)
        cos²2θm)``. None (the default) is the unpolarized tube beam. Refused
        for neutrons and with ``lorentz_polarization=False``.

    Attributes
    ----------
    radiation_ : Radiation
        The resolved radiation (set by ``fit``; ``transform`` resolves it anew).

    Examples
    --------
    >>> from skxrd import Crystal, PowderSimulator
    >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    >>> sim = PowderSimulator()
    >>> X = sim.transform([nacl])
    >>> X.shape, X.dtype, float(X.max())
    ((1, 4250), dtype('float32'), 1.0)
    >>> float(sim.two_theta[X[0].argmax()])  # NaCl (200), Cu Kα1
    31.7
    """

    def __init__(
        self,
        radiation="CuKa",
        wavelength=None,
        two_theta_range=(5.0, 90.0),
        two_theta_step=0.02,
        q_range=None,
        q_step=None,
        profile="pseudo-voigt",
        eta=None,
        caglioti_uvw=(0.01, -0.003, 0.005),
        lorentzian_xy=(0.0, 0.0),
        crystallite_size=None,
        scherrer_k=0.9,
        profile_cutoff=20.0,
        monochromator_angle=0.0,
        lorentz_polarization=True,
        debye_waller=True,
        overall_b=0.0,
        anomalous=False,
        preferred_orientation=None,
        march_r=1.0,
        normalize="max",
        backend="numpy",
        device="auto",
        batch_size=256,
        n_jobs=None,
        verbose=False,
        max_reflections=MAX_REFLECTIONS,
        kbeta=0.0,
        polarization=None,
    ):
        self.radiation = radiation
        self.wavelength = wavelength
        self.two_theta_range = two_theta_range
        self.two_theta_step = two_theta_step
        self.q_range = q_range
        self.q_step = q_step
        self.profile = profile
        self.eta = eta
        self.caglioti_uvw = caglioti_uvw
        self.lorentzian_xy = lorentzian_xy
        self.crystallite_size = crystallite_size
        self.scherrer_k = scherrer_k
        self.profile_cutoff = profile_cutoff
        self.monochromator_angle = monochromator_angle
        self.lorentz_polarization = lorentz_polarization
        self.debye_waller = debye_waller
        self.overall_b = overall_b
        self.anomalous = anomalous
        self.preferred_orientation = preferred_orientation
        self.march_r = march_r
        self.normalize = normalize
        self.backend = backend
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.max_reflections = max_reflections
        self.kbeta = kbeta
        self.polarization = polarization

    # ------------------------------------------------------------------ settings
    def _settings(self) -> _Settings:
        return _Settings(self)

    @property
    def two_theta(self) -> np.ndarray:
        """The output grid in 2θ (degrees) at the primary wavelength."""
        s = self._settings()
        if s.axis == "two_theta":
            return s.grid.copy()
        lam = s.radiation.wavelength
        return np.degrees(2.0 * np.arcsin(s.grid * lam / (4 * np.pi)))

    @property
    def q(self) -> np.ndarray:
        """The output grid in Q = 4π sin θ / λ (Å⁻¹) at the primary wavelength."""
        s = self._settings()
        if s.axis == "q":
            return s.grid.copy()
        return 4 * np.pi * np.sin(np.radians(s.grid) / 2) / s.radiation.wavelength

    def fit(self, X=None, y=None):
        """Check the parameters; the simulator learns nothing from data.

        Returns
        -------
        self
        """
        s = self._settings()
        self.radiation_ = s.radiation
        self.n_features_out_ = len(s.grid)
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns: the grid positions.

        Examples
        --------
        >>> PowderSimulator().get_feature_names_out()[:2].tolist()
        ['two_theta_5.000', 'two_theta_5.020']
        """
        from ..utils._grid import grid_feature_names

        s = self._settings()
        if s.axis == "q":
            return grid_feature_names(s.grid, "q", decimals=4)
        return grid_feature_names(s.grid)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ main API
    def transform(self, X) -> np.ndarray:
        """Simulate one pattern per crystal.

        Parameters
        ----------
        X : sequence of Crystal (or pymatgen Structure, ASE Atoms, CIF paths)

        Returns
        -------
        ndarray of shape (n_crystals, n_points), float32

        Raises
        ------
        ValueError
            For a crystal without scattering data, or one whose cell would need
            more than ``max_reflections`` reflections over the range (a cell of
            hundreds of Å; the largest inorganic cells need under a million with
            Cu Kα), naming the crystal's index and name.

        Warns
        -----
        UserWarning
            Once per call, naming the ions without an X-ray form factor table
            of their own (``S2-``) and the neutral atoms whose form factors are
            used instead (neutrons: each element's scattering length is right
            for its ions, and nothing is said). Once per call, where an X-ray
            grid reaches beyond sin θ/λ = 2 Å⁻¹ (wavelengths below 0.5 Å),
            where the form factors' fits no longer hold.
        """
        s = self._settings()
        crystals = as_crystals(X)
        s.warn_stand_ins(crystals)
        if s.backend == "torch":
            from ._torch_backend import simulate_torch

            return simulate_torch(
                s, crystals, self.batch_size, self.device, self.verbose
            )
        return self._map(s, crystals, _patterns_chunk, np.float32)

    def transform_varied(self, X, settings) -> np.ndarray:
        """Simulate each crystal with its own sample and instrument settings.

        The way to many distinct training patterns of one crystal: each entry of
        ``settings`` (for example from
        :class:`~skxrd.simulation.InstrumentSampler`) changes, for its pattern
        only, the keys it names:

        - ``crystallite_size``: nm, Scherrer broadening (None: the simulator's);
        - ``width_scale``: factor on the instrumental widths (Caglioti and
          Lorentzian ``X``, ``Y``; the FWHM scales by it);
        - ``preferred_orientation`` (hkl) and ``march_r``: March–Dollase
          texture;
        - ``zero_shift``: a zero error of the goniometer, degrees 2θ added to
          every line;
        - ``background``: a flat background, relative to the strongest peak;
        - ``counts`` and ``noise_seed``: Poisson counting noise for ``counts``
          counts at the top of the strongest peak (None: no noise), drawn with
          the numpy seed ``noise_seed``;
        - ``kbeta``: the Kβ1/Kα1 intensity ratio (see ``kbeta``; None: the
          simulator's).

        Always computed with the numpy backend.

        Parameters
        ----------
        X : sequence of Crystal (or pymatgen Structure, ASE Atoms, CIF paths)
        settings : sequence of dict
            One dict per crystal; missing keys keep the simulator's values.

        Returns
        -------
        ndarray of shape (n_crystals, n_points), float32

        Examples
        --------
        >>> from skxrd import Crystal, PowderSimulator
        >>> nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
        >>> sim = PowderSimulator(radiation="CuKa1")
        >>> X = sim.transform_varied([nacl, nacl], [{}, {"zero_shift": 0.1}])
        >>> [float(sim.two_theta[x.argmax()]) for x in X]
        [31.7, 31.8]
        """
        s = self._settings()
        crystals = as_crystals(X)
        settings = list(settings)
        if len(settings) != len(crystals):
            raise ValueError(
                f"settings has {len(settings)} entries for {len(crystals)} crystals"
            )
        items = [
            (c, _check_pattern_settings(v, i, s))
            for i, (c, v) in enumerate(zip(crystals, settings))
        ]
        s.warn_stand_ins(crystals)
        return self._map(s, items, _varied_chunk, np.float32)

    def peaks(self, X) -> list[PeakList]:
        """Peak lists of the crystals at the primary wavelength.

        Lines inside the 2θ range of the grid (the grid converted to 2θ for a Q
        grid) are listed; use :meth:`render` to turn them into patterns. With
        ``kbeta`` > 0 the Kβ lines inside it follow, marked by the peak list's
        ``is_kbeta``, at their own 2θ and intensity (``kbeta`` times that of
        their reflection, with their own Lorentz-polarization factor).

        Parameters
        ----------
        X : sequence of Crystal

        Returns
        -------
        list of PeakList
        """
        s = self._settings()
        crystals = as_crystals(X)
        s.warn_stand_ins(crystals)
        return self._map(s, crystals, _peaks_chunk, None)

    def render(self, peak_lists) -> np.ndarray:
        """Render peak lists (from :meth:`peaks`) with this simulator's profile.

        Peak lists from a simulator with the same primary wavelength can be
        rendered with other profiles, widths, grids or the Kα2 doublet without
        recomputing structure factors. Lines just outside the range of the peak
        lists are not included.

        This simulator's Lorentz-polarization factor, monochromator angle,
        polarization, overall B and Kβ line (``kbeta``) apply (the peak lists'
        ``f_squared`` holds none of them; the reflections of their Kβ rows,
        ``is_kbeta``, are rendered once, with this simulator's lines and
        ``kbeta``). A simulator with ``kbeta`` > 0 needs peak lists listed with
        ``kbeta`` > 0 (which hold the reflections whose Kβ line alone falls
        within the range).
        What is part of ``f_squared`` must agree, or the peak lists are refused:
        the radiation kind (X-ray form factors or neutron scattering lengths),
        ``anomalous``, ``debye_waller`` and the texture (``preferred_orientation``,
        ``march_r``). The grid's 2θ range (at the primary wavelength) must lie
        within the range the lines were listed for, or the lines beyond it
        would be missing. Peak lists without these records (made by hand, or
        before they were kept) are checked for the wavelength only.

        Parameters
        ----------
        peak_lists : sequence of PeakList

        Returns
        -------
        ndarray of shape (n_peak_lists, n_points), float32

        Raises
        ------
        ValueError
            For a peak list of another primary wavelength, radiation kind,
            structure-factor settings, or listed for a narrower 2θ range, or
            without Kβ lines for a simulator with ``kbeta`` > 0.

        Examples
        --------
        >>> from skxrd import Crystal
        >>> si = Crystal.from_wyckoff(227, [("Si", "8a")], a=5.431)
        >>> peaks = PowderSimulator(radiation="CuKa1").peaks([si])
        >>> broad = PowderSimulator(radiation="CuKa1", crystallite_size=5)
        >>> broad.render(peaks).shape
        (1, 4250)
        """
        s = self._settings()
        peak_lists = list(peak_lists)
        for i, pl in enumerate(peak_lists):
            _check_renderable(pl, i, s)
        lines = [_beam_lines(pl) for pl in peak_lists]
        return render_peaks(s, lines).astype(np.float32)

    def _map(self, s, crystals, func, dtype):
        n = len(crystals)
        n_jobs = self.n_jobs if self.n_jobs is not None else 1
        # Few, large chunks: a chunk costs a round trip to a worker, and each
        # worker should get several for load balancing only when there are many.
        workers = _effective_jobs(n_jobs)
        n_chunks = (
            1
            if n_jobs == 1
            else max(1, min(4 * workers, max(workers, math.ceil(n / 512)), n))
        )
        bounds = np.linspace(0, n, n_chunks + 1).astype(int)
        chunks = [
            (int(a), crystals[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a
        ]
        if n_jobs == 1:
            results = [func(s, start, chunk, self.verbose) for start, chunk in chunks]
        else:
            results = parallel_map(
                func,
                [(s, start, chunk, False) for start, chunk in chunks],
                n_jobs=n_jobs,
                verbose=self.verbose,
                desc="simulating",
                unit="chunk",
            )
        if dtype is None:
            return [item for part in results for item in part]
        if not results:
            return np.zeros((0, len(s.grid)), dtype=dtype)
        return np.concatenate(results).astype(dtype, copy=False)


def _effective_jobs(n_jobs: int) -> int:
    from joblib import cpu_count

    return cpu_count() + 1 + n_jobs if n_jobs < 0 else n_jobs


class _Settings:
    """Validated, derived simulation settings (picklable, shared by backends)."""

    def __init__(self, est: PowderSimulator):
        self.radiation: Radiation = get_radiation(est.radiation, est.wavelength)
        lam = self.radiation.wavelength
        if est.q_range is not None:
            if est.q_step is None:
                raise ValueError("q_range needs q_step")
            lo, hi = _pair(est.q_range, "q_range")
            step = check_positive(est.q_step, "q_step")
            # Q is converted with the primary wavelength (as 2θ grids are
            # defined by it), so the grid reaches 2θ = 180° of the primary line
            # at 4π/λ1; a longer line's (Kα2) reflections beyond its own 180°
            # are dropped, as on a 2θ grid that ends at 180°.
            q_max = 4 * math.pi / self.radiation.wavelength
            if lo < 0 or hi > q_max:
                raise ValueError(
                    f"q_range {est.q_range} must lie in [0, {q_max:.4f}] Å⁻¹ for "
                    f"{self.radiation.name} (4π/λ, λ = {lam:g} Å)"
                )
            self.axis = "q"
        else:
            lo, hi = _pair(est.two_theta_range, "two_theta_range")
            step = check_positive(est.two_theta_step, "two_theta_step")
            if lo < 0 or hi > 180:
                raise ValueError(
                    f"two_theta_range {est.two_theta_range} must lie in [0, 180]"
                )
            self.axis = "two_theta"
        n = int(round((hi - lo) / step))
        if n < 2:
            raise ValueError("the grid has fewer than 2 points; check range and step")
        if n > 10_000_000:
            raise ValueError(f"the grid would have {n} points; check range and step")
        self.start, self.step = float(lo), float(step)
        self.range = (float(lo), float(hi))
        self.grid = self.start + self.step * np.arange(n)
        if est.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {est.profile!r}")
        self.profile = est.profile
        self.eta = check_real(est.eta, "eta", allow_none=True, minimum=0.0, maximum=1.0)
        uvw = tuple(float(v) for v in _seq(est.caglioti_uvw, 3, "caglioti_uvw"))
        xy = tuple(float(v) for v in _seq(est.lorentzian_xy, 2, "lorentzian_xy"))
        if not all(math.isfinite(v) and v >= 0 for v in xy):
            # a negative Lorentzian width turns the profile negative
            raise ValueError(f"lorentzian_xy must be finite and >= 0, got {xy}")
        self.caglioti_uvw, self.lorentzian_xy = uvw, xy
        self.crystallite_size = (
            None
            if est.crystallite_size is None
            else check_positive(est.crystallite_size, "crystallite_size")
        )
        self.scherrer_k = check_positive(est.scherrer_k, "scherrer_k")
        self.profile_cutoff = check_positive(est.profile_cutoff, "profile_cutoff")
        self.monochromator_angle = check_real(
            est.monochromator_angle,
            "monochromator_angle",
            minimum=0.0,
            maximum=180.0,
            include_max=False,
        )
        # check_bool, not bool(): "no" or "False" would turn an option on
        self.lorentz_polarization = check_bool(
            est.lorentz_polarization, "lorentz_polarization"
        )
        self.polarization = _check_polarization(
            est.polarization, self.radiation, self.lorentz_polarization
        )
        if self.polarization is not None:
            c2m = math.cos(math.radians(self.monochromator_angle)) ** 2
            p = self.polarization
            if p + (1.0 - p) * c2m < 1e-9:
                # a monochromator at 2θm = 90° passes only the perpendicular
                # component, and there is none
                raise ValueError(
                    f"polarization={est.polarization!r} with monochromator_angle="
                    f"{est.monochromator_angle!r} passes no beam: the monochromator "
                    "(in the sample's diffraction plane) extinguishes the "
                    "polarization in that plane"
                )
        self.kbeta = _check_kbeta(est.kbeta, self.radiation, "kbeta")
        #: the radiation's lines, with the anode's Kβ1 line appended for kbeta > 0:
        #: what the patterns are rendered with (``radiation`` stays the beam's
        #: own, which structure factors and the grid's 2θ <-> Q use)
        self.lines: Radiation = with_kbeta(self.radiation, self.kbeta)
        self.debye_waller = check_bool(est.debye_waller, "debye_waller")
        self.overall_b = check_real(est.overall_b, "overall_b", minimum=0.0)
        self.anomalous = check_bool(est.anomalous, "anomalous")
        if self.anomalous and self.radiation.kind == "neutron":
            raise ValueError("anomalous scattering applies to X-rays, not neutrons")
        self.preferred_orientation = None
        if est.preferred_orientation is not None:
            po = np.asarray(est.preferred_orientation, dtype=float)
            if po.shape != (3,) or not np.any(po) or not np.all(np.isfinite(po)):
                raise ValueError(
                    "preferred_orientation must be a non-zero hkl triple, got "
                    f"{est.preferred_orientation!r}"
                )
            self.preferred_orientation = po
        self.march_r = _check_march_r(est.march_r, "march_r")
        if est.normalize not in ("max", "area", None):
            raise ValueError(
                f"normalize must be 'max', 'area' or None, got {est.normalize!r}"
            )
        self.normalize = est.normalize
        if est.backend not in ("numpy", "torch"):
            raise ValueError(f"backend must be 'numpy' or 'torch', got {est.backend!r}")
        self.backend = est.backend
        bs = est.batch_size
        if isinstance(bs, bool) or not isinstance(bs, numbers.Integral) or bs < 1:
            raise ValueError(f"batch_size must be a positive integer, got {bs!r}")
        self.max_reflections = check_int(
            est.max_reflections, "max_reflections", minimum=1
        )
        # joblib's own errors for "2" or 1.5 named neither the parameter nor us
        n_jobs = check_int(est.n_jobs, "n_jobs", allow_none=True)
        if n_jobs == 0:
            raise ValueError("n_jobs must be a non-zero integer or None, got 0")

        # Widths must be positive everywhere on the grid; this also bounds the
        # profile window, so lines just outside the range still spill in.
        lo_tt, hi_tt = self.two_theta_limits_of_grid()
        theta = np.radians(np.linspace(lo_tt, hi_tt, 64) / 2)
        uu, vv, ww = uvw
        raw = uu * np.tan(theta) ** 2 + vv * np.tan(theta) + ww
        if np.any(raw < 0) or (
            np.all(raw == 0) and not any(xy) and not self.crystallite_size
        ):
            raise ValueError(
                f"caglioti_uvw {uvw} gives a negative or zero Gaussian FWHM² within "
                "the grid; choose U, V, W with U tan²θ + V tanθ + W > 0"
            )
        fwhm, eta = fwhm_and_eta(theta, np, **self.width_kwargs(lam))
        if np.any(fwhm <= 0) or not np.all(np.isfinite(fwhm)):
            raise ValueError("the peak widths are not positive within the grid")
        gaussian_only = np.all(eta == 0)
        # A Gaussian is 1.5e-11 of its peak at 3 FWHM: below float32 resolution.
        self.window_fwhm = (
            min(3.0, self.profile_cutoff) if gaussian_only else (self.profile_cutoff)
        )
        margin = self.window_fwhm * float(fwhm.max()) * 1.5
        self.two_theta_window = (max(lo_tt - margin, 0.0), min(hi_tt + margin, 180.0))

    def two_theta_limits_of_grid(self):
        """The requested range (not only the grid points) in degrees 2θ."""
        lo, hi = self.range
        if self.axis == "two_theta":
            return float(lo), float(hi)
        lam = self.radiation.wavelength

        def to_two_theta(q):
            return math.degrees(2 * math.asin(min(q * lam / (4 * math.pi), 1)))

        return to_two_theta(lo), to_two_theta(hi)

    def width_kwargs(self, wavelength):
        return dict(
            profile=self.profile,
            caglioti_uvw=self.caglioti_uvw,
            lorentzian_xy=self.lorentzian_xy,
            crystallite_size=self.crystallite_size,
            scherrer_k=self.scherrer_k,
            wavelength=wavelength,
            eta=self.eta,
        )

    def reflection_kwargs(self):
        return dict(
            anomalous=self.anomalous,
            debye_waller=self.debye_waller,
            preferred_orientation=self.preferred_orientation,
            march_r=self.march_r,
            max_reflections=self.max_reflections,
        )

    def warn_stand_ins(self, crystals):
        """Say (once per call) which ions get their neutral atom's X-ray form
        factor, and whether the grid reaches beyond the form factors' range."""
        if self.radiation.kind != "neutron":
            warn_xray_stand_ins(crystals, "PowderSimulator")
            # the shortest line reaches the largest sin θ/λ at the grid's end
            warn_form_factor_range(
                min(self.lines.wavelengths),
                self.two_theta_limits_of_grid()[1],
                "PowderSimulator",
            )


#: The March–Dollase parameters accepted: far beyond any texture (r = 0.1 is
#: a near-perfect platelet texture), and with the factor r⁻³ (1e9 here) below
#: float32's overflow; r = 1e-30 or 1e30 gave all-zero patterns (numpy) or NaN
#: (torch).
MARCH_R_RANGE = (1e-3, 1e3)


def _check_kbeta(value, radiation: Radiation, what: str) -> float:
    """A Kβ1/Kα1 intensity ratio within [0, 1], refused (unless 0) where the
    radiation has no known Kβ line."""
    ratio = check_real(value, what, minimum=0.0, maximum=1.0)
    if ratio > 0 and radiation.kbeta is None:
        beam = (
            "neutrons"
            if radiation.kind == "neutron"
            else f"the single-wavelength beam {radiation.name!r}"
        )
        raise ValueError(
            f"{what}={value!r} needs a named anode line (such as 'CuKa' or "
            f"'MoKa1'), whose Kβ1 wavelength is known; {beam} has no Kβ line"
        )
    return ratio


def _check_polarization(value, radiation: Radiation, lorentz_polarization: bool):
    """The beam's polarization fraction within [0, 1], or None."""
    p = check_real(value, "polarization", allow_none=True, minimum=0.0, maximum=1.0)
    if p is None:
        return None
    if radiation.kind == "neutron":
        raise ValueError(
            f"polarization={value!r} applies to X-rays: the neutron intensities "
            "have no polarization factor"
        )
    if not lorentz_polarization:
        # it would be ignored without a word
        raise ValueError(
            f"polarization={value!r} needs lorentz_polarization=True (the "
            "polarization factor is part of the Lorentz-polarization factor)"
        )
    return p


def with_kbeta(radiation: Radiation, ratio: float) -> Radiation:
    """``radiation`` with its anode's Kβ1 line appended at ``ratio`` of Kα1's
    weight; ``radiation`` itself for ``ratio == 0``."""
    if not ratio:
        return radiation
    return Radiation(
        radiation.kind,
        radiation.wavelengths + (radiation.kbeta,),
        radiation.weights + (float(ratio),),
        radiation.name,
    )


def _check_march_r(value, what):
    """A March–Dollase parameter within :data:`MARCH_R_RANGE`."""
    r = check_positive(value, what)
    lo, hi = MARCH_R_RANGE
    if not lo <= r <= hi:
        raise ValueError(f"{what} must be within [{lo:g}, {hi:g}], got {value!r}")
    return r


def _pair(value, what):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be two numbers, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"{what} must be finite with start < stop, got {value!r}")
    return lo, hi


def _seq(value, n, what):
    try:
        values = [float(v) for v in value]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be {n} numbers, got {value!r}") from None
    if len(values) != n or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what} must be {n} finite numbers, got {value!r}")
    return values


def _line_width_kwargs(s: _Settings, lam: float, per_line, ok):
    """Width parameters, per line where patterns have their own settings."""
    kwargs = s.width_kwargs(lam)
    if per_line is None:
        return kwargs
    scale = per_line["width_scale"][ok]
    scale2 = scale * scale
    U, V, W = kwargs["caglioti_uvw"]
    X, Y = kwargs["lorentzian_xy"]
    kwargs["caglioti_uvw"] = (U * scale2, V * scale2, W * scale2)
    kwargs["lorentzian_xy"] = (X * scale, Y * scale)
    kwargs["crystallite_size"] = per_line["crystallite_size"][ok]
    return kwargs


def line_profiles(s: _Settings, g: np.ndarray, f_squared: np.ndarray, per_line=None):
    """Position, integrated intensity, FWHM and η of every line of every wavelength.

    Positions and widths are in the units of the output grid; the last array
    maps each output line back to its index in ``g``. ``per_line`` optionally
    holds per-line arrays ``width_scale``, ``crystallite_size`` (``inf``: no
    size broadening) and ``zero_shift`` (degrees 2θ), from the settings of each
    line's pattern, and ``kbeta``, the weight of the Kβ line (the last of
    ``s.lines`` beyond the beam's own) of each line's pattern.
    """
    rad = s.lines
    n_beam = len(s.radiation.wavelengths)
    neutron = rad.kind == "neutron"
    pos, inten, width, etas, which = [], [], [], [], []
    for i, (lam, weight) in enumerate(zip(rad.wavelengths, rad.weights)):
        sin_t = g * lam / 2.0
        ok = sin_t < 1.0
        if i >= n_beam and per_line is not None and "kbeta" in per_line:
            # each pattern's own Kβ ratio; patterns without Kβ add no line
            ok &= per_line["kbeta"] > 0
            weight = per_line["kbeta"][ok]
        which.append(np.flatnonzero(ok))
        theta = np.arcsin(sin_t[ok])
        tt = np.degrees(2 * theta)
        intensity = weight * f_squared[ok]
        if s.lorentz_polarization:
            intensity = intensity * lorentz_polarization(
                theta,
                np,
                neutron=neutron,
                monochromator_2theta=s.monochromator_angle,
                polarization=s.polarization,
            )
        if s.overall_b:
            intensity = intensity * np.exp(-2.0 * s.overall_b * (g[ok] / 2.0) ** 2)
        fwhm, eta = fwhm_and_eta(theta, np, **_line_width_kwargs(s, lam, per_line, ok))
        if per_line is not None:
            # a zero error of the goniometer moves every line by the same 2θ
            shift = per_line["zero_shift"][ok]
            tt = tt + shift
            theta = theta + np.radians(shift) / 2.0
        if s.axis == "q":
            lam1 = rad.wavelength
            tt = 4 * np.pi * np.sin(theta) / lam1
            fwhm = 2 * np.pi / lam1 * np.cos(theta) * np.radians(fwhm)
        pos.append(tt)
        inten.append(intensity)
        width.append(fwhm)
        etas.append(np.broadcast_to(eta, theta.shape))
    return (
        np.concatenate(pos),
        np.concatenate(inten),
        np.concatenate(width),
        np.concatenate(etas),
        np.concatenate(which),
    )


def render_peaks(s: _Settings, lines, per_pattern=None) -> np.ndarray:
    """Render powder lines onto the grid of settings ``s`` (numpy).

    Parameters
    ----------
    s : _Settings
    lines : list of (g, f_squared)
        Per pattern, the lines' 1/d (Å⁻¹) and multiplicity-weighted |F|².
    per_pattern : dict of arrays, optional
        Per pattern ``width_scale``, ``crystallite_size`` (``inf`` for none) and
        ``zero_shift`` (see :meth:`PowderSimulator.transform_varied`).

    Returns
    -------
    ndarray of shape (len(lines), n_points), float64
    """
    n, m = len(s.grid), len(lines)
    counts = np.array([len(g) for g, _ in lines], dtype=np.intp)
    if counts.sum() == 0:
        return np.zeros((m, n))
    g = np.concatenate([g for g, _ in lines])
    fsq = np.concatenate([f for _, f in lines])
    owner = np.repeat(np.arange(m), counts)
    per_line = (
        None
        if per_pattern is None
        else {k: np.asarray(v, dtype=float)[owner] for k, v in per_pattern.items()}
    )
    pos, inten, fwhm, eta, which = line_profiles(s, g, fsq, per_line)
    owner = owner[which]
    # Lines are rendered in classes of similar width, each in a window just
    # wide enough for its widest line: every line is cut at its own
    # window_fwhm * FWHM anyway, so the result is that of one common window.
    need = np.ceil(s.window_fwhm * fwhm / s.step)
    width_class = np.ceil(np.log2(np.maximum(need, 1.0))).astype(np.intp)
    out = np.zeros(m * n)
    for c in np.unique(width_class):
        sel = np.flatnonzero(width_class == c)
        half = min(int(need[sel].max()), n)
        _render_window(
            s, half, pos[sel], inten[sel], fwhm[sel], eta[sel], owner[sel], out, m
        )
    return _normalize(out.reshape(m, n), s.normalize)


def _render_window(s, half, pos, inten, fwhm, eta, owner, out, m):
    """Add lines, each within ``half`` points of its centre, into ``out``."""
    n = len(s.grid)
    centre = np.rint((pos - s.start) / s.step).astype(np.intp)
    hit = (centre + half >= 0) & (centre - half < n)  # windows that touch the grid
    pos, inten, fwhm, eta, centre, owner = (
        a[hit] for a in (pos, inten, fwhm, eta, centre, owner)
    )
    offsets = np.arange(-half, half + 1, dtype=np.float32)
    frac = (centre - (pos - s.start) / s.step).astype(np.float32)
    dx = (frac[:, None] + offsets) * np.float32(s.step)
    fwhm32 = fwhm[:, None].astype(np.float32)
    vals = profile_values(dx, fwhm32, eta[:, None].astype(np.float32), np)
    vals *= inten[:, None].astype(np.float32)
    # A line's tail beyond its own window is dropped, and so are points off the
    # grid (their index is clipped onto the grid with a zero weight).
    vals *= np.abs(dx) <= s.window_fwhm * fwhm32
    idx = centre[:, None] + np.arange(-half, half + 1)
    off_grid = (idx < 0) | (idx >= n)
    if off_grid.any():
        vals[off_grid] = 0.0
        np.clip(idx, 0, n - 1, out=idx)
    idx += (owner * n)[:, None]
    # unbuffered add in place (float64 values: numpy's fast path of ufunc.at);
    # bincount had to allocate, zero and add a whole batch of patterns
    np.add.at(out, idx.ravel(), vals.ravel().astype(np.float64))


def _normalize(pattern, how):
    if how == "max":
        m = pattern.max(axis=-1, keepdims=True) if pattern.size else 0
        return np.divide(pattern, m, out=np.zeros_like(pattern), where=m > 0)
    if how == "area":
        a = pattern.sum(axis=-1, keepdims=True) if pattern.size else 0
        return np.divide(pattern, a, out=np.zeros_like(pattern), where=a > 0)
    return pattern


def _crystal_error(exc, index, crystal: Crystal):
    label = f"crystal {index}" + (f" ({crystal.name!r})" if crystal.name else "")
    return type(exc)(f"{label}: {exc}")


def _beam_lines(pl: PeakList):
    """``(1/d, f_squared)`` of the reflections of a peak list, each once.

    Its Kβ rows are reflections listed already, except those whose Kβ line
    lies within the range and their Kα line beyond it: these are kept, so that
    their Kβ line is rendered (their Kα line falls off the grid).
    """
    # getattr: peak lists pickled before is_kbeta have none
    mask = getattr(pl, "is_kbeta", None)
    if mask is None or not np.any(mask):
        return 1.0 / pl.d, pl.f_squared
    beta = np.asarray(mask, dtype=bool)
    # a Kβ row's d is that of its Kα row, bit for bit (both are 1/g of one line)
    keep = ~beta | ~np.isin(pl.d, pl.d[~beta])
    return 1.0 / pl.d[keep], pl.f_squared[keep]


def _check_renderable(pl, index: int, s: _Settings) -> None:
    """One clear error where rendering ``pl`` with ``s`` would be wrong."""
    where = f"peak list {index}"
    if not isinstance(pl, PeakList):
        raise TypeError(f"{where} must be a PeakList, got {type(pl).__name__}")
    lam = s.radiation.wavelength
    if not np.isclose(pl.wavelength, lam, rtol=1e-6):
        raise ValueError(
            f"{where} was computed at {pl.wavelength} Å but this simulator uses {lam} Å"
        )
    # getattr: peak lists pickled before these fields have none of them
    kind = getattr(pl, "radiation_kind", None)
    if kind is not None and kind != s.radiation.kind:
        held = "neutron scattering lengths" if kind == "neutron" else "form factors"
        raise ValueError(
            f"{where} was computed for {kind} radiation but this simulator uses "
            f"{s.radiation.kind} ({s.radiation.name}): its f_squared holds "
            f"{held}; compute the peak list with a simulator of this radiation"
        )
    listed = getattr(pl, "structure_settings", None)
    if listed is not None:
        mine = structure_settings(
            s.anomalous, s.debye_waller, s.preferred_orientation, s.march_r
        )
        differ = [k for k in mine if listed.get(k) != mine[k]]
        if differ:
            pairs = ", ".join(f"{k}={listed.get(k)!r}" for k in differ)
            ours = ", ".join(f"{k}={mine[k]!r}" for k in differ)
            raise ValueError(
                f"{where} was computed with {pairs} but this simulator has "
                f"{ours}; these are part of f_squared, so compute the peak "
                "list with this simulator's settings"
            )
    limits = getattr(pl, "two_theta_limits", None)
    if limits is not None and s.kbeta > 0 and not getattr(pl, "kbeta", None):
        raise ValueError(
            f"{where} was listed without Kβ lines (kbeta=0) but this simulator "
            f"has kbeta={s.kbeta!r}: the Kβ lines of the reflections just beyond "
            "its 2θ range (whose Kβ lines fall within it) would be missing; "
            "compute the peak list with kbeta > 0"
        )
    if limits is not None:
        lo, hi = s.two_theta_limits_of_grid()
        tol = limit_tolerance(lo, hi)  # make_peak_list's allowance
        if lo < limits[0] - tol or hi > limits[1] + tol:
            raise ValueError(
                f"{where} lists lines for 2θ {limits[0]:g} to {limits[1]:g}° but "
                f"this simulator's grid spans {lo:g} to {hi:g}° (at "
                f"{lam:g} Å): the lines beyond would be missing; compute the "
                "peak list over this range"
            )


def _peaks_chunk(s: _Settings, start: int, crystals, verbose):
    limits = s.two_theta_limits_of_grid()
    # A hair wider than the limits: 2θ -> 1/d -> 2θ is not exact, and a line
    # at a limit's very 2θ was dropped by the 1/d screen in half of the cases;
    # make_peak_list keeps the lines within the limits by their 2θ.
    g_lo, g_hi = g_range_for(s.lines, *limits)
    g_range = (g_lo * (1.0 - 1e-9), g_hi * (1.0 + 1e-9))
    out = []
    for i, c in enumerate(tqdm(crystals, disable=not verbose, desc="peaks")):
        try:
            out.append(
                make_peak_list(
                    c,
                    s.radiation,
                    g_range,
                    limits,
                    s.monochromator_angle,
                    s.lorentz_polarization,
                    overall_b=s.overall_b,
                    polarization=s.polarization,
                    kbeta=s.kbeta,
                    **s.reflection_kwargs(),
                )
            )
        except ValueError as exc:
            raise _crystal_error(exc, start + i, c) from None
    return out


_PATTERN_KEYS = (
    "crystallite_size",
    "width_scale",
    "preferred_orientation",
    "march_r",
    "zero_shift",
    "background",
    "counts",
    "noise_seed",
    "kbeta",
)


def _check_pattern_settings(value, index: int, s: _Settings) -> dict:
    """One pattern's settings, complete and checked."""
    where = f"settings[{index}]"
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a dict, got {value!r}")
    unknown = set(value) - set(_PATTERN_KEYS)
    if unknown:
        raise ValueError(
            f"{where}: unknown keys {sorted(unknown)}; known: {list(_PATTERN_KEYS)}"
        )
    size = value.get("crystallite_size")
    size = s.crystallite_size if size is None else check_positive(size, where + " size")
    po = value.get("preferred_orientation", s.preferred_orientation)
    if po is not None:
        po = np.asarray(po, dtype=float)
        if po.shape != (3,) or not np.any(po) or not np.all(np.isfinite(po)):
            raise ValueError(f"{where}: preferred_orientation must be an hkl triple")
    shift = value.get("zero_shift", 0.0)
    if isinstance(shift, bool) or not isinstance(shift, numbers.Real):
        raise ValueError(f"{where}: zero_shift must be a number, got {shift!r}")
    if not (math.isfinite(shift) and abs(shift) < 10):
        raise ValueError(f"{where}: zero_shift must be within ±10 degrees")
    background = value.get("background", 0.0)
    if (
        isinstance(background, bool)
        or not isinstance(background, numbers.Real)
        or not (math.isfinite(background) and background >= 0)
    ):
        raise ValueError(
            f"{where}: background must be a finite number >= 0, got {background!r}"
        )
    counts = value.get("counts")
    if counts is not None:
        counts = check_positive(counts, where + " counts")
    kbeta = value.get("kbeta")
    kbeta = (
        s.kbeta if kbeta is None else _check_kbeta(kbeta, s.radiation, where + " kbeta")
    )
    seed = value.get("noise_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{where}: noise_seed must be an int >= 0, got {seed!r}")
    return {
        "crystallite_size": math.inf if size is None else size,
        "width_scale": check_positive(
            value.get("width_scale", 1.0), where + " width_scale"
        ),
        "preferred_orientation": po,
        "march_r": _check_march_r(value.get("march_r", s.march_r), where + " march_r"),
        "zero_shift": float(shift),
        "background": float(background),
        "counts": None if counts is None else float(counts),
        "noise_seed": int(seed),
        "kbeta": kbeta,
    }


def _add_counting(pattern, v, how):
    """A flat background and Poisson counting noise on one rendered pattern.

    ``background`` is the level relative to the strongest peak; ``counts`` the
    counts at the top of the strongest peak (the background included in the
    noise, as a detector counts it). The result is normalized as the
    simulator's patterns are.
    """
    if v["background"] == 0 and v["counts"] is None:
        return pattern
    top = float(pattern.max())
    if top <= 0:
        return pattern
    y = pattern / top + v["background"]
    if v["counts"] is not None:
        rng = np.random.default_rng(v["noise_seed"])
        y = rng.poisson(y * v["counts"]) / v["counts"]
    return _normalize((y * top).astype(np.float32), how)


def _varied_chunk(s: _Settings, start: int, items, verbose):
    from ._peaks import reflections

    if s.window_fwhm < s.profile_cutoff and any(
        math.isfinite(v["crystallite_size"]) for _, v in items
    ):
        # size broadening makes Gaussian-only settings Lorentzian: their tails
        # reach as far as those of a simulator with a crystallite size
        s = copy.copy(s)
        s.window_fwhm = s.profile_cutoff
    # Kβ lines where any pattern has them, each pattern's at its own ratio
    if s.lines is s.radiation and any(v["kbeta"] > 0 for _, v in items):
        s = copy.copy(s)
        s.lines = with_kbeta(s.radiation, 1.0)  # weights come per pattern
    kbeta = s.lines is not s.radiation
    # Lines just outside the grid spill into it by up to window_fwhm of the
    # broadest settings, and move by the largest zero shift: widen the 1/d range.
    lo_tt, hi_tt = s.two_theta_limits_of_grid()
    theta = np.radians(np.linspace(lo_tt, hi_tt, 64) / 2)
    widest = {
        "width_scale": np.full(64, max(v["width_scale"] for _, v in items)),
        "crystallite_size": np.full(64, min(v["crystallite_size"] for _, v in items)),
    }
    kwargs = _line_width_kwargs(s, s.radiation.wavelength, widest, slice(None))
    fwhm, _ = fwhm_and_eta(theta, np, **kwargs)
    pad = max(abs(v["zero_shift"]) for _, v in items)
    margin = s.window_fwhm * float(np.max(fwhm)) * 1.5 + pad
    lo, hi = s.two_theta_window
    g_range = g_range_for(
        s.lines,
        max(min(lo, lo_tt - margin), 0.0),
        min(max(hi, hi_tt + margin), 180.0),
    )
    out = np.zeros((len(items), len(s.grid)), dtype=np.float32)
    block = 64
    bar = tqdm(total=len(items), disable=not verbose, desc="simulating", unit="pattern")
    for b0 in range(0, len(items), block):
        lines, chunk = [], items[b0 : b0 + block]
        for i, (c, v) in enumerate(chunk, start=b0):
            kwargs = s.reflection_kwargs()
            kwargs.update(
                preferred_orientation=v["preferred_orientation"], march_r=v["march_r"]
            )
            try:
                g, _, _, fsq = reflections(
                    c, s.radiation, g_range, with_hkl=False, **kwargs
                )
            except ValueError as exc:
                raise _crystal_error(exc, start + i, c) from None
            lines.append((g, fsq))
        keys = ("width_scale", "crystallite_size", "zero_shift")
        per_pattern = {
            key: np.array([v[key] for _, v in chunk], dtype=float)
            for key in keys + (("kbeta",) if kbeta else ())
        }
        out[b0 : b0 + len(lines)] = render_peaks(s, lines, per_pattern)
        for i, (_, v) in enumerate(chunk, start=b0):
            out[i] = _add_counting(out[i], v, s.normalize)
        bar.update(len(lines))
    bar.close()
    return out


def _patterns_chunk(s: _Settings, start: int, crystals, verbose):
    from ._peaks import reflections

    g_range = g_range_for(s.lines, *s.two_theta_window)
    out = np.zeros((len(crystals), len(s.grid)), dtype=np.float32)
    # Structure factors crystal by crystal; profiles rendered in blocks, which
    # amortizes numpy's per-call overhead over many patterns.
    block = 64
    bar = tqdm(
        total=len(crystals), disable=not verbose, desc="simulating", unit="pattern"
    )
    for b0 in range(0, len(crystals), block):
        lines = []
        for i, c in enumerate(crystals[b0 : b0 + block], start=b0):
            try:
                g, _, _, fsq = reflections(
                    c, s.radiation, g_range, with_hkl=False, **s.reflection_kwargs()
                )
            except ValueError as exc:
                raise _crystal_error(exc, start + i, c) from None
            lines.append((g, fsq))
        out[b0 : b0 + len(lines)] = render_peaks(s, lines)
        bar.update(len(lines))
    bar.close()
    return out
