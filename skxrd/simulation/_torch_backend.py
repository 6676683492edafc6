"""Batched torch backend of :class:`~skxrd.PowderSimulator` (CPU or CUDA).

The numpy backend works crystal by crystal; this one simulates a batch of
crystals per step so that a GPU is kept busy:

1. crystals are sorted by size (number of reflections and atoms) so that a batch
   pads little, and the patterns are put back in input order at the end;
2. per sub-batch, the reflections of the Friedel half space in a common hkl box
   are screened with each crystal's reciprocal metric (float64) and compacted
   to the reflections inside the sphere ``g_min <= 1/d <= g_max``;
3. structure factors come from float32 phases and batched matrix products with
   each crystal's (atom, scattering group) occupancy matrix, with the same
   scattering strengths as the numpy backend (``_scattering_groups``);
4. every reflection and wavelength line is rendered with a windowed scatter-add
   (equivalent reflections are not merged: rendering them one by one gives the
   same pattern), in chunks that bound the memory.

The result equals the numpy backend within float32 rounding.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields

import numpy as np
from tqdm.auto import tqdm

from ..utils._torch import import_torch, resolve_device
from ._peaks import (
    ABSENT_RTOL,
    _half_space_hkl,
    _scattering_groups,
    check_hkl_box,
    g_range_for,
    phase_coords,
)
from ._physics import fwhm_and_eta, lorentz_polarization, profile_values

__all__ = ["resolve_device", "simulate_torch"]

# Largest number of elements of one intermediate tensor (the g² screen of the hkl
# box, phases, profile windows) per device. Large chunks keep a GPU busy; on a
# CPU, chunks that stay in cache are faster. Peak memory is a small multiple of
# these (about 1.5 GB on CUDA), whatever the batch size.
_BUDGET = {"cuda": 1 << 25, "cpu": 1 << 21}
# Prepare the next sub-batch in a helper thread (pays off when a GPU computes).
_PREFETCH = {"cuda": True, "cpu": False}


def _import_torch():
    return import_torch("PowderSimulator(backend='torch')")


def simulate_torch(s, crystals, batch_size=256, device="auto", verbose=False):
    """Simulate the powder patterns of ``crystals`` with torch, batch by batch.

    Parameters
    ----------
    s : _Settings
        The validated settings of a :class:`~skxrd.PowderSimulator`.
    crystals : list of Crystal
    batch_size : int, default=256
        Crystals per batch (the patterns of one batch are held on the device).
    device : str or torch.device, default="auto"
        See :func:`resolve_device`.
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    ndarray of shape (len(crystals), len(s.grid)), float32
        The patterns in the order of ``crystals``; equal to the numpy backend's
        within float32 rounding.

    Raises
    ------
    ValueError
        For an invalid device, and for a crystal without scattering data or
        with more than ``s.max_reflections`` hkl in its box (naming the
        crystal's index and name).
    """
    torch = _import_torch()
    dev = resolve_device(device)
    batch_size = int(batch_size)  # validated with the other settings
    n_points = len(s.grid)
    out = np.zeros((len(crystals), n_points), dtype=np.float32)
    if len(crystals) == 0:
        return out
    g_range = g_range_for(s.lines, *s.two_theta_window)
    sizes = _Sizes.of(crystals, g_range[1])
    sizes.check(crystals, g_range[1], s.max_reflections)
    order = sizes.order()
    budget = _BUDGET.get(dev.type, _BUDGET["cuda"])
    batches = [order[b0 : b0 + batch_size] for b0 in range(0, len(order), batch_size)]
    jobs = [
        (k, lo, hi)
        for k, index in enumerate(batches)
        for lo, hi in sizes.sub_batches(index, budget)
    ]

    def prepare(job):
        k, lo, hi = job
        return _Batch.prepare(s, crystals, batches[k][lo:hi], sizes)

    # On a GPU, the next sub-batch is prepared on the CPU while this one runs.
    host_batches = _prefetched(prepare, jobs, _PREFETCH.get(dev.type, False))
    bar = tqdm(
        total=len(crystals), disable=not verbose, desc="simulating", unit="pattern"
    )
    patterns = None
    try:
        with torch.inference_mode(), _full_precision_matmul(torch):
            for (k, lo, hi), host in zip(jobs, host_batches):
                if lo == 0:
                    patterns = torch.zeros(
                        (len(batches[k]), n_points), dtype=torch.float32, device=dev
                    )
                batch = host.to(torch, dev)
                lines = _reflection_lines(torch, s, batch, g_range, budget)
                if lines is not None:
                    owner, g, f_squared = lines
                    _render(torch, s, patterns[lo:hi], owner, g, f_squared, budget)
                if hi == len(batches[k]):
                    _normalize(torch, patterns, s.normalize)
                    out[batches[k]] = patterns.cpu().numpy()
                    bar.update(len(batches[k]))
    finally:
        host_batches.close()
        bar.close()
    return out


def _prefetched(func, items, enabled):
    """``func(item)`` for each item; with ``enabled``, one item ahead in a thread."""
    if not enabled or len(items) < 2:
        for item in items:
            yield func(item)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(func, items[0])
        for nxt in [*items[1:], None]:
            result = future.result()
            if nxt is not None:
                future = pool.submit(func, nxt)
            yield result


@contextmanager
def _full_precision_matmul(torch):
    # TF32 matmuls (torch.set_float32_matmul_precision("high")) would spoil the
    # structure factors; use full float32 within the simulation.
    old = torch.get_float32_matmul_precision()
    if old != "highest":
        torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        if old != "highest":
            torch.set_float32_matmul_precision(old)


# ------------------------------------------------------------------ batching
@dataclass
class _Sizes:
    """Per-crystal sizes: hkl box extents, atoms and estimated reflections."""

    lattice: np.ndarray  # (n, 3, 3)
    hmax: np.ndarray  # (n, 3) int
    n_atoms: np.ndarray  # (n,) int
    n_refl: np.ndarray  # (n,) estimated reflections in the half sphere

    @classmethod
    def of(cls, crystals, g_max):
        lattice = np.stack([c.lattice for c in crystals])
        # as reflections(): |h| = |g . a| <= g_max |a|
        hmax = np.floor(g_max * np.linalg.norm(lattice, axis=2) + 1e-9)
        volume = np.abs(np.linalg.det(lattice))
        n_refl = 2.0 * math.pi / 3.0 * g_max**3 * volume
        n_atoms = np.array([c.n_atoms for c in crystals], dtype=np.int64)
        return cls(lattice, hmax.astype(np.int64), n_atoms, n_refl)

    def check(self, crystals, g_max, max_reflections):
        """Raise the error of the first crystal whose hkl box holds more than
        ``max_reflections``, before any box is allocated (a sub-batch of
        several crystals keeps its common box within the budget, below the
        limit)."""
        from ._simulator import _crystal_error

        n_box = np.prod(2.0 * self.hmax + 1.0, axis=1) / 2.0
        for i in np.flatnonzero(n_box > max_reflections):
            try:
                check_hkl_box(self.hmax[i], g_max, crystals[i], max_reflections)
            except ValueError as exc:
                raise _crystal_error(exc, int(i), crystals[i]) from None

    def order(self):
        """Crystals sorted by reflections (in 1/8 octaves), then by atoms."""
        bucket = np.floor(8.0 * np.log2(np.maximum(self.n_refl, 1.0)))
        return np.lexsort((self.n_atoms, bucket))

    def sub_batches(self, index, budget):
        """Split a batch into runs whose g² screen and phases fit the budget."""
        start, n = 0, len(index)
        while start < n:
            box = np.zeros(3, dtype=np.int64)
            refl = atoms = 0.0
            stop = start
            while stop < n:
                i = index[stop]
                box_i = np.maximum(box, self.hmax[i])
                refl_i = max(refl, float(self.n_refl[i]))
                atoms_i = max(atoms, float(self.n_atoms[i]))
                count = stop - start + 1
                n_box = float(np.prod(2 * box_i + 1)) / 2
                cost = count * max(n_box, refl_i * atoms_i)
                if stop > start and cost > budget:
                    break
                box, refl, atoms = box_i, refl_i, atoms_i
                stop += 1
            yield start, stop
            start = stop


@dataclass
class _Batch:
    """Padded per-crystal arrays of a sub-batch (numpy, or torch on the device).

    Padding atoms have zero occupancy and padding groups zero strength.
    """

    hmax: tuple  # common hkl box
    metric: object  # (b, 6) float64: M00, M11, M22, M01, M02, M12
    recip: object  # (b, 3, 3) float64, rows a*, b*, c*
    coords: object  # (b, A, 3) float32, 2π · fractional coordinates (phase_coords)
    weights: object  # (b, G, A) float32 occupancy of each atom in each group
    # Form factors are evaluated for the real (crystal, group) pairs only:
    pair_row: object  # (P,) crystal of each pair, or None for neutrons
    pair_slot: object  # (P,) index of the pair in the flattened (b, G)
    ff_a: object  # (P, 4, 1) float32 form-factor amplitudes a_i
    ff_b: object  # (P, 4, 1) float32 form-factor exponents b_i
    const: object  # (b, G, 1) float32 constant part (c + f', or neutron b_c)
    imag: object  # (b, G, 1) float32 imaginary part f''
    b_values: object  # (b, G, 1) float32 Debye-Waller B of each group
    has_b: bool  # whether any B is non-zero

    @classmethod
    def prepare(cls, s, crystals, index, sizes):
        """The numpy arrays of crystals ``index`` (CPU work only)."""
        from ._simulator import _crystal_error

        groups = []
        for i in index:
            try:
                groups.append(_scattering_groups(crystals[i], s.radiation, s.anomalous))
            except ValueError as exc:
                raise _crystal_error(exc, int(i), crystals[i]) from None
        b = len(index)
        n_atoms = max(w.shape[0] for w, *_ in groups)
        n_groups = max(w.shape[1] for w, *_ in groups)
        xray = s.radiation.kind != "neutron"
        recip = np.linalg.inv(sizes.lattice[index]).transpose(0, 2, 1)
        m = recip @ recip.transpose(0, 2, 1)
        metric = m[:, [0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
        coords = np.zeros((b, n_atoms, 3), dtype=np.float32)
        weights = np.zeros((b, n_groups, n_atoms), dtype=np.float32)
        ff, pairs = [], []
        const = np.zeros((b, n_groups, 1), dtype=np.float32)
        imag = np.zeros((b, n_groups, 1), dtype=np.float32)
        b_values = np.zeros((b, n_groups, 1), dtype=np.float32)
        for j, (i, (w, bv, co, cst, im)) in enumerate(zip(index, groups)):
            na, ng = w.shape
            coords[j, :na] = phase_coords(crystals[i].frac_coords)
            weights[j, :ng, :na] = w.T
            if xray:
                ff.append(co[:, 1:])  # a1, b1, ..., a4, b4
                pairs.append(j * n_groups + np.arange(ng))
            const[j, :ng, 0] = cst
            imag[j, :ng, 0] = im
            if bv is not None:
                b_values[j, :ng, 0] = bv
        pair_row = pair_slot = ff_a = ff_b = None
        if xray:
            ff = np.concatenate(ff).astype(np.float32)
            pair_slot = np.concatenate(pairs)
            pair_row = pair_slot // n_groups
            ff_a, ff_b = ff[:, 0::2, None], ff[:, 1::2, None]
        hmax = tuple(int(h) for h in sizes.hmax[index].max(axis=0))
        return cls(
            hmax,
            metric,
            recip,
            coords,
            weights,
            pair_row,
            pair_slot,
            ff_a,
            ff_b,
            const,
            imag,
            b_values,
            bool(b_values.any()),
        )

    def to(self, torch, dev):
        """The same batch as torch tensors on ``dev``."""

        def put(a):
            if not isinstance(a, np.ndarray):
                return a
            return torch.from_numpy(np.ascontiguousarray(a)).to(dev)

        return _Batch(**{f.name: put(getattr(self, f.name)) for f in fields(self)})


# ------------------------------------------------------------------ reflections
def _reflection_lines(torch, s, batch, g_range, budget):
    """Reflections of a sub-batch: owner (row), g = 1/d (float64) and |F|².

    ``|F|²`` sums ``|F(h)|² + |F(-h)|²`` of each reflection of the Friedel half
    space, as ``reflections`` does, with preferred orientation applied;
    absences (zero after ``_structure_factors``) are dropped.
    Returns ``None`` when no reflection falls in the range.
    """
    g_min, g_max = g_range
    dev = batch.metric.device
    hkl_box, products = _half_space_hkl(batch.hmax)
    if len(hkl_box) == 0:
        return None
    products = torch.tensor(products, device=dev)
    g2 = batch.metric @ products.T  # (b, n_box)
    inside = (g2 <= g_max * g_max) & (g2 >= g_min * g_min)
    counts = inside.sum(dim=1)
    n_refl = int(counts.max())
    if n_refl == 0:
        return None
    # Compact each crystal's reflections to the front of a (b, n_refl) table;
    # padding points at a real reflection (index 0) and is masked by `valid`.
    rows, cols = inside.nonzero(as_tuple=True)
    first = torch.cumsum(counts, 0) - counts
    slot = torch.arange(len(rows), device=dev) - first[rows]
    n_batch = g2.shape[0]
    table = torch.zeros((n_batch, n_refl), dtype=torch.long, device=dev)
    table[rows, slot] = cols
    del inside, rows, cols, slot
    valid = torch.arange(n_refl, device=dev) < counts[:, None]
    g2 = g2.gather(1, table)
    hkl = torch.tensor(hkl_box, device=dev)[table]  # (b, n_refl, 3) float64
    del table

    f_squared = _structure_factors(torch, s, batch, hkl, g2, budget)
    if s.preferred_orientation is not None and s.march_r != 1.0:
        # March–Dollase, as reflections(): cos α between g and the PO normal.
        po = torch.tensor(s.preferred_orientation, dtype=torch.float64, device=dev)
        pvec = po @ batch.recip  # (b, 3)
        u = (batch.recip @ pvec[:, :, None])[:, :, 0]  # g . p = hkl . (recip p)
        cos2 = (hkl @ u[:, :, None])[:, :, 0] ** 2 / (
            g2 * (pvec * pvec).sum(1, keepdim=True)
        )
        r = s.march_r
        f_squared = f_squared * (r * r * cos2 + (1.0 - cos2) / r) ** -1.5
    keep = valid & (f_squared > 0.0)
    owner, col = keep.nonzero(as_tuple=True)
    return owner, torch.sqrt(g2[owner, col]), f_squared[owner, col]


def _structure_factors(torch, s, batch, hkl, g2, budget):
    """``|F(h)|² + |F(-h)|²`` (float64) of a (b, n_refl) table of reflections.

    The reflection axis is kept last (contiguous) in all intermediates.
    """
    n_batch, n_refl = g2.shape
    n_groups, n_atoms = batch.weights.shape[1:]
    # per reflection: A phases and their cos and sin, <= 4 G form-factor terms
    block = max(1, budget // (n_batch * max(n_atoms, 4 * n_groups, 1)))
    hkl32 = hkl.to(torch.float32).transpose(1, 2)  # (b, 3, n_refl)
    occupancy = batch.weights.sum(2, keepdim=True)  # (b, G, 1) per group
    out = torch.empty((n_batch, n_refl), dtype=torch.float64, device=g2.device)
    for k0 in range(0, n_refl, block):
        sl = slice(k0, k0 + block)
        s2 = (0.25 * g2[:, None, sl]).to(torch.float32)  # (sin θ / λ)², (b, 1, k)
        fg, fi = _scattering_strengths(torch, s, batch, s2)  # (b, G, k)
        # float32 phases 2π (hx + ky + lz), as the numpy backend
        phase = torch.bmm(batch.coords, hkl32[:, :, sl])  # (b, A, k)
        s_re = torch.bmm(batch.weights, torch.cos(phase))  # (b, G, k)
        s_im = torch.bmm(batch.weights, torch.sin(phase))
        del phase
        if fi is None:  # real scattering strengths: |F(h)|² = |F(-h)|²
            re_p = (fg * s_re).sum(1)
            im_p = (fg * s_im).sum(1)
            f2 = 2.0 * (re_p * re_p + im_p * im_p)
        else:  # F(±h) = Σ_g (fg + i fi)(s_re ± i s_im)
            re_p = (fg * s_re - fi * s_im).sum(1)
            im_p = (fg * s_im + fi * s_re).sum(1)
            re_m = (fg * s_re + fi * s_im).sum(1)
            im_m = (fi * s_re - fg * s_im).sum(1)
            f2 = re_p * re_p + im_p * im_p + re_m * re_m + im_m * im_m
        # absences: below ABSENT_RTOL of the largest |F|² the atoms could give
        strength = fg.abs() if fi is None else fg.abs() + fi.abs()
        bound = (strength * occupancy).sum(1)
        out[:, sl] = torch.where(f2 > ABSENT_RTOL * 2.0 * bound * bound, f2, 0.0)
    return out


def _scattering_strengths(torch, s, batch, s2):
    """Real and imaginary (or None) strengths of the groups: (b, G, k) each."""
    n_batch, n_groups = batch.const.shape[:2]
    if batch.ff_a is None:  # neutrons: constant scattering lengths
        fg = batch.const.expand(-1, -1, s2.shape[2])
    else:  # c + Σ_i a_i exp(-b_i s²) for the real groups, zero for padding
        terms = torch.exp(batch.ff_b * -s2[batch.pair_row]).mul_(batch.ff_a)
        fg = s2.new_zeros((n_batch * n_groups, s2.shape[2]))
        fg[batch.pair_slot] = terms.sum(1)
        fg = fg.view(n_batch, n_groups, -1).add_(batch.const)
    # f'' of anomalous X-rays, or an absorbing neutron scatterer's b''
    fi = batch.imag if s.anomalous or s.radiation.kind == "neutron" else None
    if s.debye_waller and batch.has_b:
        dw = torch.exp(batch.b_values * -s2)
        fg = fg * dw
        fi = None if fi is None else fi * dw
    return fg, None if fi is None else fi.expand_as(fg)


# ------------------------------------------------------------------ profiles
def _line_profiles(torch, s, g, f_squared):
    """Position, intensity, FWHM, η and reflection index of every wavelength line.

    The torch version of ``line_profiles`` (positions in float64).
    """
    rad = s.lines  # the beam's lines and the Kβ line of kbeta > 0
    neutron = rad.kind == "neutron"
    pos, inten, width, etas, which = [], [], [], [], []
    for lam, weight in zip(rad.wavelengths, rad.weights):
        sin_t = g * lam / 2.0
        ok = torch.nonzero(sin_t < 1.0).flatten()
        theta = torch.asin(sin_t[ok])
        g_ok = g[ok]
        tt = torch.rad2deg(2.0 * theta)
        intensity = weight * f_squared[ok]
        if s.lorentz_polarization:
            intensity = intensity * lorentz_polarization(
                theta,
                torch,
                neutron=neutron,
                monochromator_2theta=s.monochromator_angle,
                polarization=s.polarization,
            )
        if s.overall_b:
            intensity = intensity * torch.exp(-2.0 * s.overall_b * (g_ok / 2.0) ** 2)
        fwhm, eta = fwhm_and_eta(theta, torch, **s.width_kwargs(lam))
        if s.axis == "q":
            lam1 = rad.wavelength
            tt = 4 * math.pi * torch.sin(theta) / lam1
            fwhm = 2 * math.pi / lam1 * torch.cos(theta) * torch.deg2rad(fwhm)
        eta = torch.as_tensor(eta, dtype=fwhm.dtype, device=fwhm.device)
        pos.append(tt)
        inten.append(intensity)
        width.append(fwhm)
        etas.append(eta.expand_as(fwhm))
        which.append(ok)
    return tuple(torch.cat(x) for x in (pos, inten, width, etas, which))


def _render(torch, s, patterns, owner, g, f_squared, budget):
    """Add the profiles of the lines of reflections ``g`` to ``patterns[owner]``."""
    n_rows, n = patterns.shape
    pos, inten, fwhm, eta, which = _line_profiles(torch, s, g, f_squared)
    x = (pos - s.start) / s.step
    centre = torch.round(x)  # half to even, as np.rint
    # Each line's own window; the numpy backend uses the widest line's, but
    # values beyond window_fwhm · FWHM are zeroed anyway.
    half = torch.clamp(torch.ceil(s.window_fwhm * fwhm / s.step), max=n)
    hit = (centre + half >= 0) & (centre - half < n)  # windows touching the grid
    half, order = torch.sort(half[hit].to(torch.int32))
    if len(half) == 0:
        return
    sel = torch.nonzero(hit).flatten()[order]
    half_cpu = half.cpu().numpy().astype(np.int64)
    # Points off the grid go to a margin of 2 h_max each side, cut off at the end
    # (the numpy backend zeroes them), so no index needs a bounds check.
    margin = 2 * int(half_cpu[-1])
    width = n + 2 * margin
    frac = (centre[sel] - x[sel]).to(torch.float32)
    base = owner[which[sel]] * width + centre[sel].to(torch.int64) + margin
    fwhm32 = fwhm[sel].to(torch.float32)
    eta32 = eta[sel].to(torch.float32)
    inten32 = inten[sel].to(torch.float32)
    buffer = torch.zeros(n_rows * width, dtype=patterns.dtype, device=patterns.device)
    for a, b in _chunks(half_cpu, budget):
        h = int(half_cpu[b - 1])
        offsets = torch.arange(-h, h + 1, device=patterns.device)
        dx = (frac[a:b, None] + offsets.to(torch.float32)).mul_(s.step)
        w = fwhm32[a:b, None]
        vals = profile_values(dx, w, eta32[a:b, None], torch)
        vals = vals.mul_(inten32[a:b, None])
        # a line's tail beyond its own window is dropped
        vals = vals.masked_fill_(torch.abs(dx) > s.window_fwhm * w, 0.0)
        idx = base[a:b, None] + offsets
        buffer.scatter_add_(0, idx.view(-1), vals.view(-1))
    patterns += buffer.view(n_rows, width)[:, margin : margin + n]


def _chunks(half, budget):
    """Runs of lines (sorted by window) whose windows hold at most ``budget``."""

    def cost(start, stop):
        return (stop - start) * (2 * int(half[stop - 1]) + 1)

    n, start = len(half), 0
    while start < n:
        lo, hi = start + 1, n
        if cost(start, hi) <= budget:
            lo = hi
        while lo < hi:  # the largest stop within the budget (at least one line)
            mid = (lo + hi + 1) // 2
            if cost(start, mid) <= budget:
                lo = mid
            else:
                hi = mid - 1
        yield start, lo
        start = lo


def _normalize(torch, patterns, how):
    if how == "max":
        scale = patterns.amax(dim=1, keepdim=True)
    elif how == "area":
        scale = patterns.sum(dim=1, keepdim=True)
    else:
        return
    patterns.copy_(torch.where(scale > 0, patterns / scale.clamp(min=1e-38), 0.0))
