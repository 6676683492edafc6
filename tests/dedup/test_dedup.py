import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skxrd import PowderSimulator
from skxrd.datasets import load_example_crystal, make_random_crystals
from skxrd.dedup import DuplicateRemover, drop_duplicates, duplicate_groups
from skxrd.utils.estimator_checks import parametrize_sampler_checks


def peaky(n, d=600, seed=0):
    rng = np.random.default_rng(seed)
    x = np.arange(d)
    X = np.zeros((n, d))
    for _ in range(6):
        c = rng.integers(0, d, (n, 1))
        X += rng.random((n, 1)) * np.exp(-0.5 * ((x - c) / 3.0) ** 2)
    return X


def planted(n=300, copies=150, seed=0):
    rng = np.random.default_rng(seed)
    base = peaky(n, seed=seed)
    src = rng.integers(0, n, copies)
    near = base[src] * rng.uniform(0.9, 1.1, (copies, 1)) + rng.normal(
        0, 0.002, (copies, base.shape[1])
    )
    return np.vstack([base, near]), src


@pytest.mark.parametrize("algorithm", ["exact", "lsh"])
def test_planted_duplicates_are_grouped(algorithm):
    X, src = planted()
    groups = duplicate_groups(X, algorithm=algorithm)
    n = 300
    assert np.array_equal(groups[:n], np.arange(n))  # distinct patterns
    assert np.array_equal(groups[n:], groups[src])  # copies join their source
    # the two algorithms agree
    assert np.array_equal(groups, duplicate_groups(X, algorithm="exact"))


def test_threshold_is_exact_cosine():
    a = np.array([1.0, 0.0, 0.0])
    for cos in (0.985, 0.995):
        b = np.array([cos, np.sqrt(1 - cos**2), 0.0]) * 3.0  # scale is irrelevant
        same = duplicate_groups(np.vstack([a, b]), threshold=0.99)
        assert (same[0] == same[1]) == (cos >= 0.99)
    zeros = np.zeros((2, 3))
    assert duplicate_groups(zeros).tolist() == [0, 1]  # empty patterns: no match


def test_exact_and_lsh_agree_within_float32_rounding_of_the_threshold():
    # pairs whose cosine is within 2e-7 of the threshold: the exact algorithm
    # compared float32 products (44 of 200 pairs decided otherwise than the
    # float64 cosine and algorithm="lsh")
    rng = np.random.default_rng(0)
    n, d = 100, 3000
    a = rng.random((n, d)).astype(np.float32)
    noise = rng.standard_normal((n, d))
    unit = a / np.linalg.norm(a, axis=1, keepdims=True)
    noise -= np.einsum("ij,ij->i", noise, unit)[:, None] * unit
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    cos = 0.99 + rng.uniform(-2e-7, 2e-7, (n, 1))
    b = (cos * unit + np.sqrt(1 - cos**2) * noise).astype(np.float32)
    X = np.vstack([a, b])
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    truth = np.einsum("ij,ij->i", a64, b64) / np.linalg.norm(a64, axis=1)
    truth /= np.linalg.norm(b64, axis=1)
    assert 0 < np.sum(truth >= 0.99) < n
    for algorithm in ("exact", "lsh"):
        groups = duplicate_groups(X, algorithm=algorithm)
        assert np.array_equal(groups[:n] == groups[n:], truth >= 0.99), algorithm


def test_transitive_groups_and_memmap(tmp_path):
    X, _ = planted(50, 20, seed=3)
    path = tmp_path / "x.npy"
    np.save(path, X.astype(np.float32))
    mm = np.load(path, mmap_mode="r")
    assert np.array_equal(
        duplicate_groups(mm, algorithm="lsh"), duplicate_groups(X, algorithm="exact")
    )


def test_bad_pattern_input():
    with pytest.raises(ValueError, match="pattern 1 contains NaN"):
        duplicate_groups(np.array([[1.0, 2.0], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="2D"):
        duplicate_groups(np.ones(5))
    with pytest.raises(ValueError, match="threshold"):
        duplicate_groups(np.ones((2, 2)), threshold=1.5)
    with pytest.raises(ValueError, match="method"):
        duplicate_groups(np.ones((2, 2)), method="elements")
    with pytest.raises(ValueError, match="algorithm"):
        duplicate_groups(np.ones((2, 2)), algorithm="faiss")


def test_structure_groups():
    nacl = load_example_crystal("NaCl")
    kcl = nacl.replace(species=["K"] * 4 + ["Cl"] * 4)
    shifted = nacl.replace(frac_coords=np.mod(nacl.frac_coords + 0.25, 1))
    strained = nacl.replace(lattice=nacl.lattice * 1.01)
    far = nacl.replace(lattice=nacl.lattice * 1.1)
    groups = duplicate_groups([nacl, kcl, shifted, strained, far], method="structure")
    assert groups.tolist() == [0, 1, 0, 0, 2]
    # a supercell is the same structure (primitive reduced cells agree)
    from skxrd import Crystal

    doubled = Crystal(
        nacl.lattice * [[2], [1], [1]],
        list(nacl.species) * 2,
        np.vstack(
            [
                nacl.frac_coords * [0.5, 1, 1],
                nacl.frac_coords * [0.5, 1, 1] + [0.5, 0, 0],
            ]
        ),
    )
    assert duplicate_groups([nacl, doubled], method="structure").tolist() == [0, 0]
    # crystals without a method: by structure, as the design notes call it
    assert (
        duplicate_groups([nacl, kcl, shifted, strained, far]).tolist()
        == groups.tolist()
    )
    with pytest.raises(ValueError, match="data holds crystals"):
        duplicate_groups([nacl, kcl], method="pattern")
    # a DataFrame's rows are patterns, whatever its column labels
    pd = pytest.importorskip("pandas")
    X = np.array([[1.0, 0, 0], [1.0, 0.001, 0], [0, 1, 0]])
    frame = pd.DataFrame(X, columns=["two_theta_5", "two_theta_6", "two_theta_7"])
    assert duplicate_groups(frame).tolist() == [0, 0, 1]


def _reordered(crystal, order):
    return crystal.replace(
        species=[crystal.species[i] for i in order],
        frac_coords=crystal.frac_coords[order],
        occupancies=crystal.occupancies[order],
        b_iso=crystal.b_iso[order],
        labels=None,
    )


@pytest.mark.parametrize("name", ["NaCl", "Al2O3", "SrTiO3"])
def test_atom_order_does_not_split_a_structure_or_formula(name):
    # Crystal.formula lists elements in order of first appearance (NaCl with
    # its Cl atoms first reads 'ClNa'): the groups must not depend on it
    crystal = load_example_crystal(name)
    reordered = _reordered(crystal, np.arange(crystal.n_atoms)[::-1])
    assert reordered.formula != crystal.formula
    for method in ("structure", "formula"):
        groups = duplicate_groups([crystal, reordered], method=method)
        assert groups.tolist() == [0, 0], method
    # a supercell has the same composition, another compound does not
    kcl = load_example_crystal("NaCl").replace(species=["K"] * 4 + ["Cl"] * 4)
    groups = duplicate_groups([crystal, crystal.supercell((1, 2, 1)), kcl], "formula")
    assert groups.tolist() == [0, 0, 1]


def test_a_slight_strain_does_not_split_a_structure_at_a_niggli_boundary():
    from skxrd import Crystal

    # two nearly equal lengths: a strain of 0.2 % swaps a and b of the Niggli
    # cell (alpha and beta trade places: 72.9 vs 84.8 degrees)
    atoms = (["Si", "O"], [[0.1, 0.2, 0.3], [0.6, 0.55, 0.8]])
    swap = Crystal([5.0, 4.996, 6.211, 84.8, 72.9, 87.6], *atoms)
    swapped = Crystal([4.998, 5.006, 6.211, 84.8, 72.7, 87.6], *atoms)
    # an angle near 90 degrees: the reduced cell turns from acute to obtuse
    acute = Crystal([5.0, 6.0, 7.0, 89.8, 80.0, 75.0], *atoms)
    obtuse = Crystal([5.01, 6.0, 7.0, 90.2, 80.0, 75.0], *atoms)  # 90.2, 100, 105
    far = Crystal([5.0, 6.0, 7.0, 89.8, 80.0, 70.0], *atoms)
    groups = duplicate_groups([swap, swapped, acute, obtuse, far], method="structure")
    assert groups.tolist() == [0, 0, 1, 1, 2]
    # a looser tolerance never splits a group; a tight one keeps them apart
    loose = duplicate_groups(
        [swap, swapped, acute, obtuse, far], length_tol=0.05, angle_tol=3.0
    )
    assert loose.tolist() == [0, 0, 1, 1, 2]
    tight = duplicate_groups([swap, swapped], length_tol=1e-4, angle_tol=0.01)
    assert tight.tolist() == [0, 1]


def test_structure_groups_do_not_depend_on_the_order_of_the_crystals():
    crystals = [load_example_crystal(n) for n in ("NaCl", "Si", "ZnS", "Cu")]
    crystals += [
        c.replace(lattice=c.lattice * 1.004, frac_coords=c.frac_coords + 0.1)
        for c in crystals
    ]
    crystals.append(crystals[0].supercell(2))
    groups = duplicate_groups(crystals)
    assert groups.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    rng = np.random.default_rng(0)
    for _ in range(3):
        order = rng.permutation(len(crystals))
        again = duplicate_groups([crystals[i] for i in order])
        # the same partition; ids in order of first appearance
        assert np.array_equal(
            groups[order][:, None] == groups[order], again[:, None] == again
        )
        assert again[0] == 0 and np.all(
            np.diff(np.unique(again, return_index=True)[1]) > 0
        )


def _reset(crystal, basis, rotation=None):
    """``crystal`` in another basis (rows of the integer matrix ``basis``,
    det ±1, in terms of the old vectors), optionally rotated."""
    basis = np.asarray(basis, dtype=float)
    lattice = basis @ crystal.lattice
    if rotation is not None:
        lattice = lattice @ np.asarray(rotation).T
    return crystal.replace(
        lattice=lattice,
        frac_coords=np.mod(crystal.frac_coords @ np.linalg.inv(basis), 1),
    )


def _rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_orderings_with_one_formula_space_group_and_cell_are_not_duplicates():
    from skxrd import Crystal

    # Cu3Au (L1_2: Au 1a, Cu 3c) and the anti-ReO3 ordering (Au 1a, Cu 3d):
    # one formula, Pm-3m and one cubic cell; only the atoms differ. They were
    # one group: atomic positions were not compared
    l12 = Crystal.from_wyckoff(221, [("Au", "1a"), ("Cu", "3c")], a=3.75)
    anti = Crystal.from_wyckoff(221, [("Au", "1a"), ("Cu", "3d")], a=3.75)
    assert l12.get_space_group() == anti.get_space_group() == 221
    # the same with mixed sites (occupancies compared with the elements)
    mixed = [("Au", "1a"), dict(species="Cu", wyckoff="3c", occupancy=0.5)]
    mixed.append(dict(species="Ni", wyckoff="3c", occupancy=0.5))
    m12 = Crystal.from_wyckoff(221, mixed, a=3.75)
    mixed = [dict(m, wyckoff="3d") if isinstance(m, dict) else m for m in mixed]
    m_anti = Crystal.from_wyckoff(221, mixed, a=3.75)
    # a layer stacking: one formula, P4/mmm and cell; Na on 1b or on 1d
    layers = [("Cl", "1a"), ("K", "1c"), ("Cl", "1d")]
    stack1 = Crystal.from_wyckoff(123, [("Na", "1b")] + layers, a=4.0, c=5.0)
    layers = [("Cl", "1a"), ("K", "1c"), ("Cl", "1b")]
    stack2 = Crystal.from_wyckoff(123, [("Na", "1d")] + layers, a=4.0, c=5.0)
    assert stack1.get_space_group() == stack2.get_space_group() == 123
    # corundum with the Al atoms moved along c (12c: z = 0.352 and 0.45)
    al2o3 = load_example_crystal("Al2O3")
    moved = Crystal.from_wyckoff(
        167,
        [("Al", "12c", (0, 0, 0.45)), ("O", "18e", (0.306, 0, 0.25))],
        a=al2o3.lattice_parameters[0],
        c=al2o3.lattice_parameters[2],
    )
    crystals = [l12, anti, m12, m_anti, stack1, stack2, al2o3, moved]
    assert duplicate_groups(crystals).tolist() == list(range(8))
    # the cell-only comparison of before, on request
    old = duplicate_groups(crystals, site_tol=None)
    assert old.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    # a mixed site matches the same mix, here in a shifted copy, atoms reversed
    copy = _reordered(m12, np.arange(m12.n_atoms)[::-1])
    copy = copy.replace(frac_coords=np.mod(copy.frac_coords + [0.5, 0.1, 0.5], 1))
    assert duplicate_groups([m12, m_anti, copy]).tolist() == [0, 1, 0]
    # the report names what was compared
    *_, report = drop_duplicates([l12, anti], verbose=False)
    assert "atomic positions" in str(report) and not len(report.removed)
    *_, report = drop_duplicates([l12, anti], verbose=False, site_tol=None)
    assert "(formula, space group and reduced cell)" in str(report)
    assert report.removed.tolist() == [1]


@pytest.mark.parametrize("name", ["NaCl", "ZnO", "Al2O3", "SrTiO3", "LiCoO2"])
def test_copies_of_a_structure_are_still_duplicates(name):
    crystal = load_example_crystal(name)
    rng = np.random.default_rng(1)
    # an origin shift (for ZnO, P6_3mc, any shift along the polar axis c)
    shifted = crystal.replace(
        frac_coords=np.mod(crystal.frac_coords + [0, 0, 0.137], 1)
    )
    if name == "NaCl":
        shifted = crystal.replace(frac_coords=np.mod(crystal.frac_coords + 0.5, 1))
    # another basis of the same lattice, in another Cartesian frame
    reset = _reset(crystal, [[1, 1, 0], [0, 1, 0], [0, 1, 1]], _rotation(0))
    mirrored = _reset(crystal, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])  # det -1
    # a strain that keeps the space group, and atoms moved by about 0.01 Å
    # (the space group found at symprec=0.05 Å)
    strained = crystal.replace(lattice=crystal.lattice * 1.012)
    jiggled = crystal.replace(
        frac_coords=crystal.frac_coords
        + rng.normal(0, 0.01, crystal.frac_coords.shape)
        @ np.linalg.inv(crystal.lattice)
    )
    permuted = _reordered(crystal, rng.permutation(crystal.n_atoms))
    supercell = crystal.supercell((1, 1, 2))
    all_of_it = _reset(
        _reordered(strained, rng.permutation(crystal.n_atoms)),
        [[1, 0, 0], [1, 1, 0], [0, 0, 1]],
        _rotation(1),
    )
    copies = [shifted, reset, mirrored, strained, jiggled, permuted, supercell]
    copies.append(all_of_it)
    groups = duplicate_groups([crystal, *copies], symprec=0.05)
    assert groups.tolist() == [0] * (len(copies) + 1)


def test_site_tol_sets_how_far_atoms_may_move():
    al2o3 = load_example_crystal("Al2O3")
    from skxrd import Crystal

    def corundum(z):
        return Crystal.from_wyckoff(
            167,
            [("Al", "12c", (0, 0, z)), ("O", "18e", (0.306, 0, 0.25))],
            a=al2o3.lattice_parameters[0],
            c=al2o3.lattice_parameters[2],
        )

    # Al moved by 0.013 c = 0.17 Å; (V/n)^(1/3) = 2.1 Å: 0.08 of it
    pair = [corundum(0.352), corundum(0.365)]
    assert duplicate_groups(pair).tolist() == [0, 0]
    assert duplicate_groups(pair, site_tol=0.05).tolist() == [0, 1]
    assert duplicate_groups(pair, site_tol=0.1).tolist() == [0, 0]


@pytest.mark.parametrize(
    "method, params, message",
    [
        ("structure", {"length_tol": -0.1}, "length_tol must be >= 0"),
        ("structure", {"length_tol": float("nan")}, "length_tol must be finite"),
        ("structure", {"angle_tol": -1.0}, "angle_tol must be >= 0"),
        ("structure", {"angle_tol": "1"}, "angle_tol must be a number"),
        ("structure", {"site_tol": 0.0}, "site_tol must be > 0.0, got 0.0"),
        ("structure", {"site_tol": -0.3}, "site_tol must be > 0.0"),
        ("structure", {"site_tol": float("inf")}, "site_tol must be finite"),
        ("structure", {"site_tol": "0.3"}, "site_tol must be a number"),
        # spglib crashed the interpreter on these (a segmentation fault)
        ("structure", {"symprec": -1e-3}, "symprec must be a positive number"),
        ("structure", {"symprec": float("nan")}, "symprec must be a positive"),
        ("prototype", {"symprec": 0.0}, "symprec must be a positive number"),
    ],
)
def test_structure_tolerances_are_checked(method, params, message):
    nacl = load_example_crystal("NaCl")
    strained = nacl.replace(lattice=nacl.lattice * 1.005)
    with pytest.raises(ValueError, match=message):
        duplicate_groups([nacl, strained], method, **params)


@pytest.mark.parametrize(
    ("symprec", "error"),
    [
        (-1.0, ValueError),
        (float("nan"), ValueError),
        ("0.1", TypeError),
        (True, TypeError),
    ],
)
@pytest.mark.parametrize("method", ["structure", "formula", "prototype"])
def test_symprec_errors_are_those_of_the_crystal_module(method, symprec, error):
    # one symprec rule: duplicate_groups gave a ValueError for a string or a
    # bool where Crystal.get_space_group and prototype_label give a TypeError
    nacl = load_example_crystal("NaCl")
    with pytest.raises(error, match="symprec must be a positive"):
        duplicate_groups([nacl, nacl], method, symprec=symprec)
    with pytest.raises(error, match="symprec must be a positive"):
        nacl.get_space_group(symprec)


def test_drop_duplicates_report(capsys):
    X, src = planted(40, 10, seed=1)
    y = np.arange(50) % 3
    names = [f"p{i}" for i in range(50)]
    X_kept, y_kept, names_kept, report = drop_duplicates(X, y, names)
    assert X_kept.shape == (40, X.shape[1]) and len(names_kept) == 40
    assert report.removed.tolist() == list(range(40, 50))
    assert report.kept_instead.tolist() == src.tolist()
    assert np.array_equal(y_kept, y[:40]) and names_kept == names[:40]
    assert "10 removed" in capsys.readouterr().out
    with pytest.raises(ValueError, match="array 0 has 3 samples"):
        drop_duplicates(X, y[:3])


def test_lsh_does_not_pair_empty_patterns(monkeypatch):
    # Rows of zeros hash alike in every table: 4,000 of them made a bucket of
    # 8 million candidate pairs per table (140 s, 6 GB), none of which can
    # match (no cosine); now they are not hashed at all.
    from skxrd.dedup import _groups

    X, src = planted(100, 20, seed=2)
    X = np.vstack([X[:60], np.zeros((300, X.shape[1])), X[60:]])
    screened = []

    def spy(sketch, pairs, minimum):
        screened.append(pairs)
        return screen(sketch, pairs, minimum)

    screen = _groups._screen
    monkeypatch.setattr(_groups, "_screen", spy)
    groups = duplicate_groups(X, algorithm="lsh")
    empty = np.arange(60, 360)
    assert not np.isin(screened[0], empty).any()
    assert len(np.unique(groups[empty])) == 300  # each its own group, as before
    assert np.array_equal(groups, duplicate_groups(X, algorithm="exact"))


def test_torch_and_sparse_patterns_are_grouped_as_arrays():
    # a torch tensor failed with numpy's "Cannot interpret 'torch.float64' as a
    # data type", a sparse matrix with "sparse array length is ambiguous"
    import torch
    from scipy import sparse

    X, src = planted(40, 10, seed=1)
    expected = duplicate_groups(X)
    for data in (
        torch.tensor(X),
        torch.tensor(X, dtype=torch.float32),
        sparse.csr_matrix(X),
        sparse.coo_matrix(X),
    ):
        assert np.array_equal(duplicate_groups(data), expected), type(data)
    # a tensor numpy cannot read (on a GPU, here the meta device) is named so
    with pytest.raises(ValueError, match="patterns must be a 2D array.*cpu"):
        duplicate_groups(torch.zeros(3, 4, device="meta"))


def test_drop_duplicates_keeps_the_types_of_its_inputs():
    import torch
    from scipy import sparse

    X, src = planted(40, 10, seed=1)
    y = np.arange(50) % 3
    # a tuple came back as an ndarray, a tensor or a sparse matrix failed
    X_t, y_t, report = drop_duplicates(torch.tensor(X), torch.tensor(y), verbose=False)
    assert isinstance(X_t, torch.Tensor) and isinstance(y_t, torch.Tensor)
    assert np.array_equal(X_t.numpy(), X[:40]) and y_t.tolist() == y[:40].tolist()
    X_s, y_s, _ = drop_duplicates(sparse.coo_matrix(X), tuple(y), verbose=False)
    assert sparse.issparse(X_s) and X_s.format == "coo"
    assert np.array_equal(X_s.toarray(), X[:40])
    assert y_s == tuple(y[:40].tolist())
    X_r, aligned, _ = drop_duplicates(X, sparse.csr_matrix(X), verbose=False)
    assert aligned.format == "csr" and np.array_equal(aligned.toarray(), X_r)
    with pytest.raises(ValueError, match="array 0 has 3 samples"):
        drop_duplicates(X, sparse.csr_matrix(X[:3]), verbose=False)


def test_duplicate_remover_in_imblearn_pipeline():
    from imblearn.pipeline import make_pipeline

    X, src = planted(60, 40, seed=2)
    y = (np.arange(100) % 2).astype(int)
    y[60:] = y[src]  # copies carry their source's label
    remover = DuplicateRemover()
    X_res, y_res = remover.fit_resample(X, y)
    assert len(X_res) == 60 and np.array_equal(remover.sample_indices_, np.arange(60))
    pipe = make_pipeline(DuplicateRemover(), LogisticRegression(max_iter=200))
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (100,)  # nothing removed at predict time
    # only targeted classes are cleaned
    only_one = DuplicateRemover(sampling_strategy=[1]).fit_resample(X, y)[1]
    assert (only_one == 0).sum() == (y == 0).sum()


@parametrize_sampler_checks([DuplicateRemover()])
def test_duplicate_remover_estimator_checks(estimator, check):
    check(estimator)


def test_group_splits_expose_leakage():
    # Planted near-duplicates: a 1-NN classifier memorizes them, so plain KFold
    # (copies on both sides) overstates accuracy compared with group-aware folds.
    crystals = make_random_crystals(
        60, space_groups="cubic", random_state=0, n_atoms=(4, 16)
    )
    rng = np.random.default_rng(0)
    copies = []
    for c in crystals:
        for _ in range(4):
            copies.append(c.replace(lattice=c.lattice * rng.uniform(0.9998, 1.0002)))
    X = PowderSimulator(crystallite_size=30).transform(crystals + copies)
    X += rng.normal(0, 0.002, X.shape).astype(np.float32)
    y = np.array([c.space_group % 3 for c in crystals] * 5)  # arbitrary labels
    y[len(crystals) :] = np.repeat(y[: len(crystals)], 4)
    groups = duplicate_groups(X)
    assert len(np.unique(groups)) == len(crystals)
    knn = KNeighborsClassifier(1)
    plain = cross_val_score(knn, X, y, cv=KFold(5, shuffle=True, random_state=0))
    grouped = cross_val_score(knn, X, y, cv=GroupKFold(5), groups=groups)
    assert plain.mean() > 0.95  # memorized copies
    assert grouped.mean() < plain.mean() - 0.3  # the honest estimate


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 1.0}, "threshold must be < 1.0"),
        ({"threshold": 0}, "threshold must be > 0.0"),
        ({"threshold": "high"}, "threshold must be a number"),
        ({"algorithm": "faiss"}, "algorithm must be 'auto', 'exact' or 'lsh'"),
        ({"random_state": None}, "random_state must be an integer"),
    ],
)
def test_duplicate_remover_names_a_bad_parameter(params, message):
    X = np.array([[1.0, 0, 0], [0, 1, 0], [1.0, 0.001, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match=message):
        DuplicateRemover(**params).fit_resample(X, np.array([0, 1, 0, 1]))


@pytest.mark.parametrize("bad", [True, -1, 1.5, "0"])
def test_duplicate_groups_names_a_bad_random_state(bad):
    # True seeded the hash planes with 1 silently; -1, 1.5 and "0" raised
    # numpy's errors, which name neither random_state nor the value
    X = np.random.default_rng(0).random((6, 40))
    with pytest.raises(ValueError, match="random_state"):
        duplicate_groups(X, algorithm="lsh", random_state=bad)


def test_duplicate_groups_takes_numpy_generators_as_scikit_learn_does():
    X = np.random.default_rng(0).random((6, 40))
    X = np.vstack([X, X[2] * 1.001])
    rs = np.random.RandomState(0)
    before = rs.get_state()[1].copy()
    groups = duplicate_groups(X, algorithm="lsh", random_state=rs)
    assert groups[-1] == groups[2]
    assert not np.array_equal(rs.get_state()[1], before)  # the caller's advanced
    np.testing.assert_array_equal(
        duplicate_groups(X, algorithm="lsh", random_state=np.random.default_rng(1)),
        groups,
    )
