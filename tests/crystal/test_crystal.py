import numpy as np
import pytest

from skxrd.crystal import Crystal, as_crystals, lattice_from_parameters, wyckoff_sites
from skxrd.crystal._symmetry import _available_settings, general_position, parse_xyz
from skxrd.datasets import EXAMPLE_CRYSTALS, load_example_crystal

NACL_CIF = """data_NaCl
_cell_length_a 5.64
_cell_length_b 5.64
_cell_length_c 5.64
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
_symmetry_Int_Tables_number 225
loop_
_symmetry_equiv_pos_as_xyz
{ops}
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
_atom_site_B_iso_or_equiv
Na1 Na+ 0 0 0 1 0.8
Cl1 Cl- 0.5 0.5 0.5 1 1.1
"""


def nacl_cif():
    site = general_position(225)
    ops = []
    for W, t in zip(site.rotations, site.translations):
        terms = []
        for row, shift in zip(W, t):
            expr = "".join(
                f"{'+' if c > 0 else '-'}{v}" for c, v in zip(row, "xyz") if c
            )
            if shift:
                expr += f"+{shift:.6g}"
            terms.append(expr.lstrip("+"))
        ops.append("'" + ", ".join(terms) + "'")
    return NACL_CIF.format(ops="\n".join(ops))


@pytest.mark.parametrize("name", list(EXAMPLE_CRYSTALS))
def test_examples_have_intended_space_group(name):
    crystal = load_example_crystal(name)
    assert crystal.get_space_group() == crystal.space_group
    # no two atoms closer than 1.2 Å
    cart = crystal.cartesian_coords
    d = crystal.frac_coords[:, None] - crystal.frac_coords[None]
    d -= np.round(d)
    dist = np.linalg.norm(d @ crystal.lattice, axis=-1)
    np.fill_diagonal(dist, np.inf)
    assert dist.min() > 1.2
    assert cart.shape == (crystal.n_atoms, 3)


def test_known_numbers():
    nacl = load_example_crystal("NaCl")
    assert (nacl.n_atoms, nacl.formula) == (8, "NaCl")
    assert nacl.volume == pytest.approx(5.64**3)
    assert nacl.density == pytest.approx(2.164, abs=0.005)
    corundum = load_example_crystal("Al2O3")
    assert corundum.composition == {"Al": 12.0, "O": 18.0}
    assert corundum.lattice_parameters == pytest.approx(
        (4.759, 4.759, 12.991, 90, 90, 120)
    )


def test_wyckoff_tables_are_consistent():
    # Every orbit of a generic point has the multiplicity of its label, no
    # duplicate atoms, and is closed under the general position's operations.
    rng = np.random.default_rng(0)
    for key in _available_settings():
        gen = general_position(key)
        for label, site in wyckoff_sites(key).items():
            assert site.multiplicity == int(label.rstrip("abcdefghijklmnopqrstuvwxyzA"))
            pos = site.positions(rng.random(3))
            d = pos[:, None] - pos[None]
            d -= np.round(d)
            np.fill_diagonal(d[..., 0], 1)
            assert np.abs(d).max(-1).min() > 1e-6, (key, label)
            if site is gen:
                images = np.mod(
                    np.einsum("oij,pj->opi", gen.rotations, pos)
                    + gen.translations[:, None],
                    1,
                )
                diff = images[:, :, None] - pos[None, None]
                diff -= np.round(diff)
                assert np.all(np.abs(diff).max(-1).min(-1) < 1e-9), key


def test_parse_xyz_rejects_code():
    W, t = parse_xyz("x-y, x, z+1/6")
    assert W.tolist() == [[1, -1, 0], [1, 0, 0], [0, 0, 1]]
    assert t == pytest.approx([0, 0, 1 / 6])
    for bad in ["__import__('os')", "x, y", "x, y, q", "x, y, 1/0"]:
        with pytest.raises(ValueError, match="symmetry operation"):
            parse_xyz(bad)


@pytest.mark.timeout(10)
def test_parse_xyz_parses_without_evaluating():
    # eval of these never ended or was not affine; each is now an error at once
    for bad in [
        "x, y, 9**9**9",
        "x, y, 1/x",
        "x, y, x*y",
        "x, y, z+",
        "x,y," + "-" * 10**5,
    ]:
        with pytest.raises(ValueError, match="symmetry operation") as info:
            parse_xyz(bad)
        assert len(str(info.value)) < 200
    forms = {
        "2x, x*2, .5-z": ([[2, 0, 0], [2, 0, 0], [0, 0, -1]], [0, 0, 0.5]),
        "(1/2+X, -y+3/4, z-1/3)": (
            [[1, 0, 0], [0, -1, 0], [0, 0, 1]],
            [0.5, 0.75, -1 / 3],
        ),
    }
    for text, (W, t) in forms.items():
        got_W, got_t = parse_xyz(text)
        assert got_W.tolist() == W and got_t == pytest.approx(t)


def test_a_cif_cannot_run_code(tmp_path, capsys):
    # xrayutilities evaluates a CIF's symmetry operators with eval
    cif = tmp_path / "evil.cif"
    cif.write_text(
        "data_evil\n_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "loop_\n_symmetry_equiv_pos_as_xyz\n'x,y,z'\n"
        "'print(\"code from the CIF ran\"), 0, 0'\n"
        "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
        "_atom_site_fract_y\n_atom_site_fract_z\nNa1 Na 0 0 0\n"
    )
    with pytest.raises(ValueError, match="evil.cif.*symmetry operation"):
        Crystal.from_cif(cif)
    assert "ran" not in capsys.readouterr().out


def test_from_wyckoff_parameters():
    with pytest.raises(ValueError, match="needs lattice parameter 'c'"):
        Crystal.from_wyckoff(136, [("Ti", "2a")], a=4.6)
    with pytest.raises(ValueError, match="contradicts"):
        Crystal.from_wyckoff(225, [("Cu", "4a")], a=3.6, b=3.7)
    with pytest.raises(ValueError, match="does not have"):
        Crystal.from_wyckoff(225, [("Cu", "4z")], a=3.6)
    with pytest.raises(ValueError, match="more special Wyckoff position"):
        Crystal.from_wyckoff(62, [("O", "8d", (0, 0, 0))], a=5, b=6, c=7)
    with pytest.raises(ValueError, match="unknown space-group setting"):
        Crystal.from_wyckoff(231, [("Cu", "4a")], a=3.6)
    # settings: origin choice 1 diamond and rhombohedral axes
    si1 = Crystal.from_wyckoff("227:1", [("Si", "a")], a=5.431)
    assert si1.get_space_group() == 227
    alpha = Crystal.from_wyckoff(
        "166:R", [("Bi", "2c", (0.234, 0.234, 0.234))], a=4.75, alpha=57.2
    )
    assert alpha.get_space_group() == 166
    site = Crystal.from_wyckoff(
        225, [{"species": "Cu", "wyckoff": "4a", "occupancy": 0.5, "b_iso": 0.6}], a=3.6
    )
    assert np.all(site.occupancies == 0.5) and np.all(site.b_iso == 0.6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(species=[], frac_coords=np.zeros((0, 3))), "has no atoms"),
        (dict(species=["Xx"]), "unknown element 'Xx'"),
        (dict(frac_coords=[[np.nan, 0, 0]]), "NaN or inf coordinates"),
        (dict(occupancies=[0.0]), "occupancy 0.0 outside"),
        (dict(occupancies=[1.5]), "occupancy 1.5 outside"),
        (dict(b_iso=[-1.0]), "B = -1.0"),
        (dict(lattice=np.zeros((3, 3))), "degenerate"),
        (dict(lattice=[[1, 0, 0], [2, 0, 0], [0, 0, 1]]), "degenerate"),
        (dict(lattice=[3, 3, 3, 90, 90, 200]), "angles"),
        (dict(lattice=[-3, 3, 3, 90, 90, 90]), "must be positive"),
        (dict(lattice=[3, 3, 3, 120, 120, 120]), "degenerate"),
        (dict(frac_coords=[[0, 0]]), "frac_coords has shape"),
        (dict(space_group=231), "space_group 231"),
        # an infinite B silently zeroed every line
        (dict(b_iso=[np.inf]), "B = inf; it must be finite"),
        (dict(space_group="225"), "space_group '225' is not a number"),
    ],
)
def test_bad_input_names_crystal(kwargs, message):
    base = dict(
        lattice=4.0 * np.eye(3), species=["Po"], frac_coords=[[0, 0, 0]], name="po-test"
    )
    base.update(kwargs)
    with pytest.raises(ValueError, match=message) as info:
        Crystal(**base)
    assert "'po-test'" in str(info.value)


def test_inputs_are_copied_and_read_only():
    coords = np.array([[0.1, 0.2, 0.3]])
    c = Crystal(4.0 * np.eye(3), ["Fe3+"], coords)
    coords[0, 0] = 0.9
    assert c.frac_coords[0, 0] == 0.1
    with pytest.raises(ValueError):
        c.frac_coords[0, 0] = 0.5
    assert c.elements == ("Fe",) and c.species == ("Fe3+",)
    assert c.replace(name="x").frac_coords[0, 0] == 0.1


@pytest.mark.parametrize(
    "params, message",
    [
        ((3, 3, "x", 90, 90, 90), "are not numbers"),
        ((3, 3, np.nan, 90, 90, 90), "not finite"),
        ((3, 0, 3, 90, 90, 90), "must be positive"),
        ((3, 3, 3, 90, 180, 90), "must be in \\(0, 180\\)"),
        ((3, 3, 3, 120, 120, 120), "degenerate"),
    ],
)
def test_lattice_from_parameters_rejects_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        lattice_from_parameters(*params)


def test_trusted_crystal_is_the_crystal_the_constructor_builds():
    import dataclasses

    from skxrd.crystal._crystal import trusted_crystal

    lattice = lattice_from_parameters(4.0, 5.0, 6.0, 90, 100, 90)
    coords = np.array([[0.1, 0.2, 0.3], [0.5, 0.5, 0.5]])
    checked = Crystal(lattice, ["Si", "O"], coords, space_group=3, name="x")
    trusted = trusted_crystal(  # numpy strings, as a generator's draws are
        lattice.copy(), np.array(["Si", "O"]), coords.copy(), space_group=3, name="x"
    )
    # every field, so that a field added to Crystal must be added here too
    for field in dataclasses.fields(Crystal):
        a, b = getattr(checked, field.name), getattr(trusted, field.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype and not b.flags.writeable
        else:
            assert a == b, field.name
    assert all(type(s) is str for s in trusted.species)
    assert trusted.formula == checked.formula
    assert trusted.volume == pytest.approx(checked.volume)


def test_lattice_from_parameters_roundtrip():
    rng = np.random.default_rng(1)
    for _ in range(20):
        params = np.r_[rng.uniform(2, 20, 3), rng.uniform(60, 120, 3)]
        try:
            L = lattice_from_parameters(*params)
        except ValueError:
            continue
        c = Crystal(L, ["Si"], [[0, 0, 0]])
        assert np.allclose(c.lattice_parameters, params)
        assert c.volume == pytest.approx(abs(np.linalg.det(L)))


def test_cif_text_file_and_roundtrip(tmp_path):
    text = nacl_cif()
    c = Crystal.from_cif(text)
    assert (c.n_atoms, c.formula, c.space_group) == (8, "NaCl", 225)
    assert c.get_space_group() == 225
    assert sorted(set(c.b_iso.tolist())) == [0.8, 1.1]
    path = tmp_path / "nacl.cif"
    path.write_text(text)
    assert Crystal.from_cif(path).n_atoms == 8
    assert Crystal.from_cif(str(path)).n_atoms == 8
    out = tmp_path / "out.cif"
    written = c.to_cif(out)
    again = Crystal.from_cif(out)
    assert again.n_atoms == 8 and again.get_space_group() == 225
    assert np.allclose(np.sort(again.b_iso), np.sort(c.b_iso))
    # nothing the user has is overwritten
    with pytest.raises(FileExistsError):
        c.to_cif(out)
    assert out.read_text() == written


def test_cif_general_positions_from_symops():
    corundum = load_example_crystal("Al2O3")
    from skxrd.crystal._spacegroups import space_group_info

    assert space_group_info(167).symbol == "R-3c"
    again = Crystal.from_cif(corundum.to_cif())
    assert again.n_atoms == 30 and again.get_space_group() == 167


_SYMBOL_CIF = """data_x
_cell_length_a {a}
_cell_length_b {b}
_cell_length_c {c}
_cell_angle_alpha {al}
_cell_angle_beta {al}
_cell_angle_gamma {ga}
_symmetry_space_group_name_H-M '{symbol}'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
X1 Bi {xyz}
"""


@pytest.mark.parametrize(
    "symbol, cell, xyz, n_atoms",
    [
        # full symbols xrayutilities does not know: spglib's table
        ("P 1 21/n 1", (5.4, 5.5, 5.6, 90, 90), "0.1 0.2 0.3", 4),
        ("P 1 1 21/b", (5.4, 5.5, 5.6, 90, 90), "0.1 0.2 0.3", 4),
        ("P 21/c", (5.4, 5.5, 5.6, 90, 90), "0.1 0.2 0.3", 4),
        # an R symbol: the axes of the cell decide the setting
        ("R -3 m", (4.546, 4.546, 11.862, 90, 120), "0 0 0.2339", 6),
        ("R -3 m", (4.7236, 4.7236, 4.7236, 57.35, 57.35), "0.2339 0.2339 0.2339", 2),
        ("R -3 m R", (4.7236, 4.7236, 4.7236, 57.35, 57.35), "0.2339 0.2339 0.2339", 2),
        # short symbols of other settings, and a former e-glide symbol
        ("P21/n", (5.4, 5.5, 5.6, 90, 90), "0.1 0.2 0.3", 4),
        ("I2/a", (5.4, 5.5, 5.6, 90, 90), "0.1 0.2 0.3", 8),
        ("Cmca", (5.4, 5.5, 5.6, 90, 90), "0.1 0.2 0.3", 16),
        # ICSD's origin choice after a space: S (1), Z (2)
        ("F d -3 m S", (5.43, 5.43, 5.43, 90, 90), "0 0 0", 8),
        ("F d -3 m Z", (5.43, 5.43, 5.43, 90, 90), "0.125 0.125 0.125", 8),
        ("F d -3 m Z", (5.43, 5.43, 5.43, 90, 90), "0 0 0", 16),
    ],
)
def test_cif_symbol_without_operations(symbol, cell, xyz, n_atoms):
    a, b, c, al, ga = cell
    text = _SYMBOL_CIF.format(a=a, b=b, c=c, al=al, ga=ga, symbol=symbol, xyz=xyz)
    assert Crystal.from_cif(text).n_atoms == n_atoms


@pytest.mark.parametrize(
    "symbol, number",
    [
        ("P 1 21/n 1", 14),
        ("P 1 1 21/b", 14),
        ("I2/a", 15),
        ("Cmca", 64),
        ("P b n m", 62),
        ("F d -3 m S", 227),
        ("R -3 m R", 166),
    ],
)
def test_cif_symbol_of_another_setting_gives_the_number(symbol, number):
    # xrayutilities knows the standard symbols: these crystals had no number
    text = _SYMBOL_CIF.format(
        a=5.4, b=5.5, c=5.6, al=90, ga=90, symbol=symbol, xyz="0.1 0.2 0.3"
    )
    if symbol.startswith("F") or symbol.startswith("R"):
        text = text.replace("5.5", "5.4").replace("5.6", "5.4")
    if symbol.startswith("R"):
        text = text.replace(" 90\n", " 57.35\n")
    assert Crystal.from_cif(text).space_group == number
    # also where the file lists the operations
    ops = Crystal.from_cif(text).to_cif().split("loop_")[1]
    listed = text.replace("loop_", "loop_" + ops + "loop_", 1)
    assert Crystal.from_cif(listed).space_group == number


def test_cif_symbol_names_the_setting_beside_the_number():
    # the number 14 alone is P 1 21/c 1: the symbol's P 1 21/n 1 decides
    text = _SYMBOL_CIF.format(
        a=5.4, b=5.5, c=5.6, al=90, ga=90, symbol="P 1 21/n 1", xyz="0.1 0.2 0.3"
    ).replace("_symmetry_space_group_name_H-M", "_symmetry_Int_Tables_number 14\n"
              "_symmetry_space_group_name_H-M")  # fmt: skip
    coords = {tuple(np.round(x, 3)) for x in Crystal.from_cif(text).frac_coords}
    assert (0.4, 0.7, 0.2) in coords  # (1/2 - x, 1/2 + y, 1/2 - z)


@pytest.mark.parametrize(
    "item",
    [
        # CIF quotes a value in single or double quotes, or none
        '_symmetry_space_group_name_H-M "F m -3 m"',
        '_space_group_name_H-M_alt "F m -3 m"',
        # or writes it on the next line, or in a text field
        "_symmetry_space_group_name_H-M\n'F m -3 m'",
        '_symmetry_space_group_name_H-M\n# the group\n\n  "F m -3 m"',
        "_symmetry_space_group_name_H-M\n;\nF m -3 m\n;",
        "_symmetry_space_group_name_H-M Fm-3m",
    ],
)
def test_cif_symbol_is_read_in_every_way_cif_writes_a_value(item):
    # a double-quoted symbol was unknown (an error), one on the next line an
    # empty name: the block was read as P1, 2 atoms of rock salt's 8
    text = _SYMBOL_CIF.format(
        a=5.64, b=5.64, c=5.64, al=90, ga=90, symbol="", xyz="0 0 0"
    )
    text = text.replace("_symmetry_space_group_name_H-M ''", item)
    text += "Y1 Cl 0.5 0.5 0.5\n"
    crystal = Crystal.from_cif(text)
    assert crystal.n_atoms == 8
    assert crystal.space_group == 225
    assert crystal.formula == "BiCl"


def test_cif_unknown_or_inapplicable_symbol_is_no_symbol():
    # "?" is CIF's unknown: the number and operations say the group
    text = _SYMBOL_CIF.format(a=5, b=5, c=5, al=90, ga=90, symbol="?", xyz="0 0 0")
    text = text.replace(
        "_symmetry_space_group_name_H-M '?'",
        "_symmetry_space_group_name_H-M ?\n_space_group_IT_number 229",
    )
    crystal = Crystal.from_cif(text)
    assert crystal.n_atoms == 2 and crystal.space_group == 229


_HALL_CIF = """data_x
_cell_length_a {a}
_cell_length_b {b}
_cell_length_c {c}
_cell_angle_alpha {al}
_cell_angle_beta {be}
_cell_angle_gamma {ga}
{symmetry}
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
{sites}
"""


@pytest.mark.parametrize(
    "symmetry, cell, sites, n_atoms, number",
    [
        ("_space_group_name_Hall '-F 4 2 3'", (5.64,) * 3 + (90,) * 3,
         "Na1 Na 0 0 0\nCl1 Cl .5 .5 .5", 8, 225),
        ("_symmetry_space_group_name_Hall '-P 2ybc'", (5, 6, 7, 90, 100, 90),
         "Fe1 Fe 0.1 0.2 0.3", 4, 14),
        # the setting: (1/2 - x, 1/2 + y, 1/2 - z) of P 1 21/n 1
        ("_space_group_name_Hall -P_2yn", (5, 6, 7, 90, 100, 90),
         "Fe1 Fe 0.1 0.2 0.3", 4, 14),
        # the origin: Si on 8a at 1/8 (choice 2) or at 0 (choice 1)
        ("_space_group_name_Hall '-F 4vw 2vw 3'", (5.431,) * 3 + (90,) * 3,
         "Si1 Si 0.125 0.125 0.125", 8, 227),
        ("_space_group_name_Hall 'F 4d 2 3 -1d'", (5.431,) * 3 + (90,) * 3,
         "Si1 Si 0 0 0", 8, 227),
        # beside a symbol that leaves the origin open, the Hall symbol decides
        ("_symmetry_space_group_name_H-M 'F d -3 m'\n"
         "_space_group_name_Hall '-F 4vw 2vw 3'", (5.431,) * 3 + (90,) * 3,
         "Si1 Si 0 0 0", 16, 227),
        # R groups on hexagonal or rhombohedral axes
        ("_space_group_name_Hall '-R 3 2\"c'", (4.759, 4.759, 12.99, 90, 90, 120),
         "Al1 Al 0 0 0.352\nO1 O 0.306 0 0.25", 30, 167),
        ("_space_group_name_Hall '-P 3* 2n'", (5.128,) * 3 + (55.28,) * 3,
         "Al1 Al 0.352 0.352 0.352\nO1 O 0.556 -0.056 0.25", 10, 167),
    ],
)  # fmt: skip
def test_cif_hall_symbol_without_operations(symmetry, cell, sites, n_atoms, number):
    # the Hall symbol was not read: the asymmetric unit became the cell (P1)
    a, b, c, al, be, ga = cell
    text = _HALL_CIF.format(
        a=a, b=b, c=c, al=al, be=be, ga=ga, symmetry=symmetry, sites=sites
    )
    crystal = Crystal.from_cif(text)
    assert crystal.n_atoms == n_atoms
    assert crystal.space_group == number
    assert crystal.get_space_group() == number
    if "2yn" in symmetry:
        coords = {tuple(np.round(x % 1, 3)) for x in crystal.frac_coords}
        assert (0.4, 0.7, 0.2) in coords


def test_cif_unknown_hall_symbol_alone_is_an_error():
    text = _HALL_CIF.format(
        a=5, b=5, c=5, al=90, be=90, ga=90,
        symmetry="_space_group_name_Hall 'Q 9z'", sites="Fe1 Fe 0.1 0.2 0.3",
    )  # fmt: skip
    with pytest.raises(ValueError, match="Hall symbol 'Q 9z' is not one skxrd knows"):
        Crystal.from_cif(text)
    # with a number beside it, the number's setting
    text = text.replace(
        "_space_group_name_Hall", "_space_group_IT_number 2\n_space_group_name_Hall"
    )
    assert Crystal.from_cif(text).n_atoms == 2


_LAYOUT_CIF = """data_x
_cell_length_a 5.64
_cell_length_b 5.64
_cell_length_c 5.64
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
_atom_site_B_iso_or_equiv
{rows}
"""
_ROWS = "Na1 Na 0 0 0 0.5 1.5\nCl1 Cl 0.5 0.5 0.5 1 0.7"


@pytest.mark.parametrize(
    "before, after",
    [
        # blank and comment lines inside a loop (Cl was dropped)
        ("1.5\nCl1", "1.5\n\nCl1"),
        ("1.5\nCl1", "1.5\n# chlorine\nCl1"),
        # a blank line between the loop's tags and its rows (no atoms)
        ("_atom_site_B_iso_or_equiv\n", "_atom_site_B_iso_or_equiv\n\n"),
        # a row over two lines (Na was dropped), two rows on one line (Cl was)
        ("0.5 1.5\n", "0.5\n  1.5\n"),
        ("1.5\nCl1", "1.5 Cl1"),
        # a text field or a tag's value on its next line right after the loop
        # (read as atoms: an error, or an atom too many)
        ("0.7", "0.7\n_refine_special_details\n;\nrefined as Na Cl\n;"),
        ("0.7", "0.7\n_refine_special_details\n;\nO1 O 0.25 0.25 0.25 1 0\n;"),
        ("0.7", "0.7\n_publ_section_title\n'Rock salt'"),
        # a value on the line after its tag (an error)
        ("_cell_length_b 5.64", "_cell_length_b\n5.64"),
        ("_symmetry_space_group_name_H-M 'F m -3 m'", "_space_group_IT_number\n225"),
        # a loop's tags on the line of loop_, or with its rows
        ("loop_\n_atom_site_label\n", "loop_ _atom_site_label\n"),
        ("_B_iso_or_equiv\n", "_B_iso_or_equiv "),
    ],
)
def test_cif_layouts_that_cif_allows_give_the_same_crystal(before, after):
    text = _LAYOUT_CIF.format(rows=_ROWS)
    assert before in text
    crystal = Crystal.from_cif(text.replace(before, after, 1))
    assert crystal.n_atoms == 8 and crystal.space_group == 225
    assert sorted(zip(crystal.species, crystal.occupancies, crystal.b_iso))[::4] == [
        ("Cl", 1.0, 0.7),
        ("Na", 0.5, 1.5),
    ]


def test_cif_operations_in_capitals():
    # the Cambridge database's "+X,1/2+Y,1/2-Z": 'name X is not defined'
    ops = "+X,+Y,+Z\n-X,-Y,+Z\n1/2+X,1/2+Y,+Z\n1/2-X,1/2-Y,+Z"
    # these operations are C 1 1 2's (5), not the F m -3 m of the template
    template = NACL_CIF.replace("_symmetry_space_group_name_H-M 'F m -3 m'\n", "")
    template = template.replace("_symmetry_Int_Tables_number 225", "")
    text = template.replace("{ops}", ops)
    lower = Crystal.from_cif(template.replace("{ops}", ops.lower()))
    crystal = Crystal.from_cif(text)
    assert crystal.n_atoms == lower.n_atoms > 2
    np.testing.assert_allclose(crystal.frac_coords, lower.frac_coords)


@pytest.mark.parametrize(
    "ops",
    [
        "x, y, z\n-x, -y, -z",  # unquoted, with spaces
        "1 x, y, z\n2 -x, -y, -z",  # and an id column
        "1 x,y,z\n2 -x , -y , -z",
    ],
)
def test_cif_unquoted_operations_with_spaces(ops):
    # the parts of "x, y, z" were read as three values of the row
    text = NACL_CIF.replace("_symmetry_space_group_name_H-M 'F m -3 m'\n", "")
    text = text.replace("_symmetry_Int_Tables_number 225", "")
    if ops.startswith("1"):
        text = text.replace(
            "_symmetry_equiv_pos_as_xyz",
            "_symmetry_equiv_pos_site_id\n_symmetry_equiv_pos_as_xyz",
        )
    text = text.replace("Cl1 Cl- 0.5 0.5 0.5", "Cl1 Cl- 0.1 0.2 0.3")
    crystal = Crystal.from_cif(text.replace("{ops}", ops))
    assert crystal.space_group == 2 and crystal.n_atoms == 3


@pytest.mark.parametrize(
    "ops, symbol, message",
    [
        # F m -3 m's operations without the centring translations: a quarter
        # of the atoms, read as space group 225
        (
            "x,y,z\n-x,-y,-z",
            "_symmetry_space_group_name_H-M 'F m -3 m'",
            r"its symmetry operations are those of space group 2, but it names "
            r"space group 225 \('Fm-3m'\); the operations may lack the centring",
        ),
        # one operation of P 21/c left out: no group
        (
            "x,y,z\n-x,1/2+y,1/2-z\n-x,-y,-z",
            "",
            r"its 3 symmetry operations .* do not form a space group",
        ),
    ],
)
def test_cif_operations_that_contradict_the_group_are_an_error(ops, symbol, message):
    text = NACL_CIF.replace("_symmetry_space_group_name_H-M 'F m -3 m'", symbol)
    text = text.replace("_symmetry_Int_Tables_number 225", "")
    with pytest.raises(ValueError, match=r"^CIF text: " + message):
        Crystal.from_cif(text.replace("{ops}", ops))


def test_cif_operations_give_the_number_the_symbol_does_not():
    # "B m a b" (C m c e in another setting) is no symbol skxrd knows: the
    # space group of the listed operations, not None
    # AMCSD 15083's operations
    ops = "\n".join(
        [
            "x,y,z",
            "1/2+x,y,1/2+z",
            "x,1/2+y,1/2-z",
            "1/2+x,1/2+y,-z",
            "-x,1/2-y,1/2+z",
            "1/2-x,1/2-y,+z",
            "-x,y,z",
            "1/2-x,y,1/2+z",
            "x,-y,-z",
            "1/2+x,-y,1/2-z",
            "x,1/2-y,1/2+z",
            "1/2+x,1/2-y,+z",
            "-x,1/2+y,1/2-z",
            "1/2-x,1/2+y,-z",
            "-x,-y,-z",
            "1/2-x,-y,1/2-z",
        ]
    )
    text = NACL_CIF.replace("'F m -3 m'", "'B m a b'").replace(
        "_symmetry_Int_Tables_number 225", ""
    )
    crystal = Crystal.from_cif(text.replace("{ops}", ops))
    assert crystal.space_group == 64


_ANISO_CIF = """data_x
_cell_length_a 5
_cell_length_b 6
_cell_length_c 7
_cell_angle_alpha 90
_cell_angle_beta 110
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1 21/c 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
{iso}
loop_
_atom_site_aniso_label
_atom_site_aniso_{kind}_11
_atom_site_aniso_{kind}_22
_atom_site_aniso_{kind}_33
_atom_site_aniso_{kind}_12
_atom_site_aniso_{kind}_13
_atom_site_aniso_{kind}_23
Fe1 {u} {u} {u} 0 {u13} 0
O1 {u} {u} {u} 0.0 {u13} 0.0
"""


@pytest.mark.parametrize("kind", ["U", "B"])
def test_cif_anisotropic_displacements_give_the_equivalent_b(kind):
    # an isotropic motion written as a tensor on monoclinic axes: U^13 is
    # U cos(beta*); the equivalent B is 8 pi^2 U. The sites without
    # U_iso_or_equiv (the AMCSD's anisotropic sites) had B = 0.
    u = 0.02 if kind == "U" else 1.6
    b = 8 * np.pi**2 * u if kind == "U" else u
    u13 = f"{u * np.cos(np.radians(70.0)):.6f}(3)"
    iso = "Fe1 Fe 0.1 0.2 0.3\nO1 O 0.3 0.1 0.2"
    text = _ANISO_CIF.format(iso=iso, kind=kind, u=u, u13=u13)
    crystal = Crystal.from_cif(text)
    np.testing.assert_allclose(crystal.b_iso, b, rtol=1e-5)
    # a U_iso_or_equiv beside them is the equivalent the authors give
    text = text.replace(
        "_atom_site_fract_z", "_atom_site_fract_z\n_atom_site_U_iso_or_equiv"
    )
    text = text.replace("0.2 0.3\n", "0.2 0.3 0.01\n").replace(
        "0.1 0.2\n", "0.1 0.2 ?\n"
    )
    crystal = Crystal.from_cif(text)
    # Fe's given U (0.01), O's from its tensor ("?" is no value)
    fe = np.array(crystal.species) == "Fe"
    np.testing.assert_allclose(crystal.b_iso[fe], 8 * np.pi**2 * 0.01)
    np.testing.assert_allclose(crystal.b_iso[~fe], b, rtol=1e-5)
    # each site its own tensor, by label, in any order
    text = _ANISO_CIF.format(iso=iso, kind=kind, u=u, u13=u13)
    fe_row, o_row = text.splitlines()[-2:]
    o_row = "O1 " + " ".join(
        f"{2 * float(v.split('(')[0]):.6f}" for v in o_row.split()[1:]
    )
    crystal = Crystal.from_cif(
        text.replace(f"{fe_row}\n{text.splitlines()[-1]}", f"{o_row}\n{fe_row}")
    )
    fe = np.array(crystal.species) == "Fe"
    np.testing.assert_allclose(crystal.b_iso[fe], b, rtol=1e-5)
    np.testing.assert_allclose(crystal.b_iso[~fe], 2 * b, rtol=1e-5)


def test_cif_refined_occupancy_just_above_one_is_a_full_site():
    # 1.04(2) was an error (outside (0, 1]), though a mixed site may add up to 1.1
    rows = "Na1 Na 0 0 0 {occ} 1.5\nCl1 Cl 0.5 0.5 0.5 1 0.7"
    crystal = Crystal.from_cif(_LAYOUT_CIF.format(rows=rows.format(occ="1.04(2)")))
    assert crystal.n_atoms == 8 and np.all(crystal.occupancies == 1.0)
    with pytest.raises(ValueError, match="occupancy 1.2 outside"):
        Crystal.from_cif(_LAYOUT_CIF.format(rows=rows.format(occ="1.2")))


@pytest.mark.parametrize(
    "occ, b, message",
    [
        ("-0.5", "1.5", r"atom site 0 \(Na1\) has occupancy -0.5 outside \(0, 1\]"),
        ("1.5", "1.5", r"atom site 0 \(Na1\) has occupancy 1.5 outside \(0, 1\]"),
        ("0", "1.5", r"atom site 0 \(Na1\) has occupancy 0 outside \(0, 1\]"),
        ("1", "-0.2", r"atom site 0 \(Na1\) has a negative displacement parameter"),
    ],
)
def test_cif_bad_site_values_name_the_site_of_the_file(occ, b, message):
    # the errors named an atom of the expanded cell ("atom 30"), not the site
    # the user can find in the file
    rows = f"Na1 Na 0 0 0 {occ} {b}\nCl1 Cl 0.5 0.5 0.5 1 0.7"
    with pytest.raises(ValueError, match=r"^CIF text: " + message):
        Crystal.from_cif(_LAYOUT_CIF.format(rows=rows))


def test_cif_atom_loop_with_a_value_missing_is_an_error():
    # Na's row without its B was skipped: rock salt read as Cl alone
    rows = "Na1 Na 0 0 0 0.5\nCl1 Cl 0.5 0.5 0.5 1 0.7"
    with pytest.raises(ValueError, match="does not hold whole rows of its 7 values"):
        Crystal.from_cif(_LAYOUT_CIF.format(rows=rows))
    # other loops are not read, and not checked
    text = _LAYOUT_CIF.format(rows=_ROWS) + "loop_\n_publ_author_name\n_x\nSmith\n"
    assert Crystal.from_cif(text).n_atoms == 8


def test_cif_operation_that_is_no_symmetry_operation_is_an_error():
    # an affine map with a matrix of 2/3 put atoms where there are none
    for op in ("-y*2/3, x, z", "2*x, y, z"):
        text = NACL_CIF.replace("{ops}", f"'x, y, z'\n'{op}'")
        with pytest.raises(
            ValueError, match="is not a symmetry operation: its matrix must be"
        ):
            Crystal.from_cif(text)


@pytest.mark.parametrize(
    "column, value",
    [("_atom_site_occupancy", "0.5"), ("_atom_site_U_iso_or_equiv", "0.01")],
)
def test_cif_occupancy_or_u_in_the_first_column(column, value):
    # xrayutilities took column 0 for "no such column": occupancy 1, B 0
    text = _LAYOUT_CIF.format(rows="").split("loop_")[0] + (
        f"loop_\n{column}\n_atom_site_label\n_atom_site_type_symbol\n"
        "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        f"{value} Na1 Na 0 0 0\n{value} Cl1 Cl 0.5 0.5 0.5\n"
    )
    crystal = Crystal.from_cif(text)
    assert crystal.n_atoms == 8
    if "occupancy" in column:
        np.testing.assert_allclose(crystal.occupancies, 0.5)
    else:
        np.testing.assert_allclose(crystal.b_iso, 8 * np.pi**2 * 0.01)


def test_cif_hydrogen_isotopes_by_mass_number():
    # "2H" was hydrogen: a neutron length of -3.74 fm for deuterium's 6.67
    rows = "Na1 Na 0 0 0 1 0\nH1 {} 0.5 0.5 0.5 1 0"
    for symbol, species in (("2H", "D"), ("3H", "T"), ("H", "H"), ("D", "D")):
        crystal = Crystal.from_cif(_LAYOUT_CIF.format(rows=rows.format(symbol)))
        assert set(crystal.species) == {"Na", species}


def test_cif_unknown_symbol_without_operations_is_an_error():
    # not read as P1, which would be a wrong structure without a word
    text = _SYMBOL_CIF.format(a=5, b=5, c=5, al=90, ga=90, symbol="Qq", xyz="0 0 0")
    with pytest.raises(ValueError, match="space group 'Qq' is not a symbol"):
        Crystal.from_cif(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("just some words\nno cif here\n", "not a CIF"),
        ("data_x\n_cell_length_a 5\n", "no data block with atom sites"),
        (
            NACL_CIF.replace("{ops}", "'x,y,z'").replace("_cell_length_b 5.64\n", ""),
            "cell parameters",
        ),
        (
            NACL_CIF.replace("{ops}", "'x,y,z'").replace("Na1 Na+", "Q1 Qq"),
            "cannot be parsed|element",
        ),
    ],
)
def test_broken_cif_errors(text, message):
    with pytest.raises(ValueError, match=message):
        Crystal.from_cif(text)


def test_missing_cif_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.cif"):
        Crystal.from_cif(tmp_path / "nope.cif")


def test_truncated_cif_file(tmp_path):
    text = nacl_cif()
    path = tmp_path / "cut.cif"
    path.write_text(text[: text.index("loop_")])
    with pytest.raises(ValueError, match="cut.cif"):
        Crystal.from_cif(path)


def test_pymatgen_and_ase_roundtrip():
    pytest.importorskip("pymatgen")
    pytest.importorskip("ase")
    corundum = load_example_crystal("Al2O3")
    s = corundum.to_pymatgen()
    back = Crystal.from_pymatgen(s)
    assert back.n_atoms == 30 and back.get_space_group() == 167
    atoms = corundum.to_ase()
    assert Crystal.from_ase(atoms).get_space_group() == 167
    from pymatgen.core import Lattice, Structure

    disordered = Structure(Lattice.cubic(4.0), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]])
    d = Crystal.from_pymatgen(disordered)
    assert d.species == ("Fe", "Ni") and np.all(d.occupancies == 0.5)


def _atoms(crystal):
    """The atoms of a crystal as a sorted list, whatever their order."""
    return sorted(
        (sp, round(float(o), 12), round(float(b), 12), *np.round(x % 1.0, 9) % 1.0)
        for sp, o, b, x in zip(
            crystal.species, crystal.occupancies, crystal.b_iso, crystal.frac_coords
        )
    )


def test_pymatgen_roundtrip_keeps_ions_occupancies_and_b():
    # to_pymatgen wrote every ion as its neutral Element (O2- came back O, with
    # another X-ray pattern) and deuterium as hydrogen (another neutron one)
    pytest.importorskip("pymatgen")
    from pymatgen.core import Element, Species

    sites = [
        # a mixed site of two ions, each with its own occupancy and B
        {"species": "Fe3+", "wyckoff": "4a", "occupancy": 0.6, "b_iso": 0.3},
        {"species": "Mg2+", "wyckoff": "4a", "occupancy": 0.4, "b_iso": 0.5},
        {"species": "O2-", "wyckoff": "4b", "b_iso": 0.8},
        # a partially occupied neutral site, and deuterium
        {"species": "Na", "wyckoff": "8c", "occupancy": 0.25},
        {"species": "D", "wyckoff": "24d", "occupancy": 0.5, "b_iso": 1.5},
    ]
    crystal = Crystal.from_wyckoff(225, sites, a=4.2, name="mixed")
    structure = crystal.to_pymatgen()
    # one site per position: the 4 mixed Fe/Mg sites are one site each
    assert len(structure) == crystal.n_atoms - 4 == 40
    kinds = {str(sp): sp for site in structure for sp in site.species}
    assert kinds["Fe3+"] == Species("Fe", 3) and kinds["O2-"] == Species("O", -2)
    assert isinstance(kinds["Na"], Element)
    mixed = structure[0]
    assert mixed.species.as_dict() == {"Fe3+": 0.6, "Mg2+": 0.4}
    # one B per site in pymatgen: the mean, and each species' own beside it
    assert mixed.properties["b_iso"] == pytest.approx(0.6 * 0.3 + 0.4 * 0.5)
    assert mixed.properties["b_iso_species"] == {"Fe3+": 0.3, "Mg2+": 0.5}
    assert structure[4].properties == {"b_iso": 0.8, "b_iso_species": None}
    back = Crystal.from_pymatgen(structure)
    assert _atoms(back) == _atoms(crystal)
    np.testing.assert_allclose(back.lattice, crystal.lattice, atol=1e-12)
    # the charges reach the pattern: O2- is not O
    from skxrd.simulation import PowderSimulator

    sim = PowderSimulator(radiation="CuKa1")
    np.testing.assert_allclose(*sim.transform([crystal, back]), rtol=1e-5, atol=1e-7)
    # and a second trip gives the same pymatgen structure
    assert back.to_pymatgen() == structure


def test_to_pymatgen_makes_one_disordered_site_of_a_mixed_site():
    # the atoms of a mixed site were separate pymatgen sites on top of each
    # other: 12 sites for rock salt, which pymatgen finds invalid (distance 0)
    pytest.importorskip("pymatgen")
    from pymatgen.core import Composition, Lattice, Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    sites = [("Fe", "4a", 0.5), ("Mg", "4a", 0.5), ("O", "4b", 1.0)]
    crystal = Crystal.from_wyckoff(
        225, [{"species": s, "wyckoff": w, "occupancy": o} for s, w, o in sites], a=4.2
    )
    structure = crystal.to_pymatgen()
    assert len(structure) == 8 and structure.is_valid()
    assert not structure.is_ordered
    assert structure[0].species == Composition({"Fe": 0.5, "Mg": 0.5})
    assert structure.composition == Composition({"Fe": 2, "Mg": 2, "O": 4})
    merged = structure.copy()
    merged.merge_sites(mode="sum")
    assert merged == structure  # nothing left for pymatgen to merge
    assert SpacegroupAnalyzer(structure).get_space_group_number() == 225
    assert "b_iso_species" not in structure.site_properties  # one B per site
    # modulo lattice translations and within a small tolerance, in any order
    shifted = Crystal(
        4.0 * np.eye(3),
        ["Mg", "O", "Fe"],
        [[1.0, 0, 1e-6], [0.5, 0.5, 0.5], [0, 0, 0]],
        occupancies=[0.3, 1.0, 0.7],
    ).to_pymatgen()
    assert len(shifted) == 2 and shifted[0].species == Composition(Mg=0.3, Fe=0.7)
    # occupancies that add up to more than 1 (refined mixed sites, within the
    # 0.1 that Crystal allows) are no one pymatgen site: kept apart
    over = Crystal(
        4.0 * np.eye(3), ["Fe", "Mg"], [[0, 0, 0]] * 2, occupancies=[0.55, 0.5]
    )
    assert len(over.to_pymatgen()) == 2
    # a fully occupied crystal: one site per atom, in order, as before
    corundum = load_example_crystal("Al2O3").replace(b_iso=0.4)
    expected = Structure(
        Lattice(corundum.lattice),
        list(corundum.species),
        corundum.frac_coords,
        site_properties={"b_iso": [0.4] * corundum.n_atoms},
    )
    assert corundum.to_pymatgen() == expected
    assert corundum.to_pymatgen().site_properties == expected.site_properties


MIXED_CIF = """data_mixed
_cell_length_a 4.21
_cell_length_b 4.21
_cell_length_c 4.21
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
_symmetry_Int_Tables_number 225
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
_atom_site_B_iso_or_equiv
Fe1 Fe2+ 0 0 0 0.6 0.5
Mg1 Mg2+ 0 0 0 0.4 0.5
O1 O2- 0.5 0.5 0.5 0.9 0.7
"""


def test_pymatgen_round_trip_of_disordered_crystals_keeps_the_pattern(tmp_path):
    pytest.importorskip("pymatgen")
    from skxrd.datasets import make_variants
    from skxrd.simulation import PowderSimulator

    path = tmp_path / "mixed.cif"
    path.write_text(MIXED_CIF)
    crystals = [Crystal.from_cif(path)]
    variants, _ = make_variants(
        [load_example_crystal(n) for n in ("NaCl", "Al2O3")],
        6,
        partial_occupancy=1.0,
        substitution=0.8,
        random_state=0,
    )
    crystals += [v for v in variants if np.any(v.occupancies < 1)]
    shared = 0
    for crystal in crystals:
        structure = crystal.to_pymatgen()
        assert structure.is_valid(), crystal.name  # no two sites on one spot
        shared += crystal.n_atoms - len(structure)
        back = Crystal.from_pymatgen(structure)
        assert _atoms(back) == _atoms(crystal)
        for radiation, wavelength in (("CuKa", None), ("neutron", 1.54)):
            sim = PowderSimulator(radiation=radiation, wavelength=wavelength)
            np.testing.assert_allclose(
                *sim.transform([crystal, back]), rtol=1e-5, atol=1e-7
            )
    assert len(crystals) > 4 and shared > 0  # mixed sites among them


def test_to_ase_warns_of_partial_occupancy_and_keeps_it(tmp_path):
    # to_ase dropped the occupancies without a word: a mixed site became
    # whole atoms on top of each other, a vacancy a whole atom
    pytest.importorskip("ase")
    from ase.io import write

    from skxrd.simulation import PowderSimulator

    path = tmp_path / "mixed.cif"
    path.write_text(MIXED_CIF)
    crystal = Crystal.from_cif(path)
    with pytest.warns(UserWarning, match="ASE Atoms have no partial occ") as rec:
        atoms = crystal.to_ase()
    assert len(rec) == 1 and rec[0].filename == __file__
    assert "12 of 12 atoms have occupancy < 1" in str(rec[0].message)
    assert len(atoms) == crystal.n_atoms
    back = Crystal.from_ase(atoms)
    np.testing.assert_array_equal(back.occupancies, crystal.occupancies)
    # ASE's CIF writer reads them as well
    write(tmp_path / "ase.cif", atoms)
    again = Crystal.from_cif(tmp_path / "ase.cif")
    assert sorted(zip(again.elements, again.occupancies)) == sorted(
        zip(crystal.elements, crystal.occupancies)
    )
    # ions (initial charges) and B factors (an array) come back: the same pattern
    sim = PowderSimulator(radiation="CuKa")
    np.testing.assert_allclose(*sim.transform([crystal, back]), rtol=1e-5, atol=1e-7)
    # a fully occupied crystal: no warning, nothing added
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = load_example_crystal("NaCl").to_ase()
    assert "occupancy" not in plain.info and "spacegroup_kinds" not in plain.arrays


def test_from_ase_keeps_the_mixed_sites_of_ases_cif_reader(tmp_path):
    # ASE keeps one atom per mixed site and the occupancies by kind; from_ase
    # read them by tag (0 for every atom): Mg was lost and O's 0.9 read as 1
    pytest.importorskip("ase")
    from ase.io import read

    path = tmp_path / "mixed.cif"
    path.write_text(MIXED_CIF)
    crystal = Crystal.from_ase(read(path))
    reference = Crystal.from_cif(path)
    assert sorted(zip(crystal.elements, crystal.occupancies)) == sorted(
        zip(reference.elements, reference.occupancies)
    )
    assert crystal.composition == pytest.approx({"Fe": 2.4, "Mg": 1.6, "O": 3.6})


def test_ase_round_trip_of_deuterium():
    # ASE has no symbol "D": to_ase failed with KeyError('D')
    pytest.importorskip("ase")
    crystal = Crystal(
        4.0 * np.eye(3), ["D", "T", "O"], [[0, 0, 0], [0.5, 0, 0], [0.5] * 3]
    )
    atoms = crystal.to_ase()
    assert atoms.get_chemical_symbols() == ["H", "H", "O"]
    np.testing.assert_allclose(atoms.get_masses()[:2], [2.014, 3.016], atol=1e-3)
    assert Crystal.from_ase(atoms).species == ("D", "T", "O")


def test_from_pymatgen_species_with_odd_oxidation_states():
    pytest.importorskip("pymatgen")
    from pymatgen.core import Lattice, Species, Structure

    def one(species):
        return Structure(Lattice.cubic(4.0), [species], [[0, 0, 0]])

    # a spin or an oxidation state of 0 is no part of the species label: read
    # as "Fe3+,spin=5" (an error) and "Fe0+"
    assert Crystal.from_pymatgen(one(Species("Fe", 3, spin=5))).species == ("Fe3+",)
    assert Crystal.from_pymatgen(one(Species("Fe", 0))).species == ("Fe",)
    assert Crystal.from_pymatgen(one(Species("D", 1))).species == ("D+",)
    # bond-valence states are no ions of the tables: the element, said once
    mixed = Structure(
        Lattice.cubic(4.0),
        [Species("Fe", 2.5), Species("Fe", 2.5), Species("O", -2)],
        [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0.5, 0.5]],
    )
    said = r"non-integer .*: Fe2\.50?\+ as Fe$"
    with pytest.warns(UserWarning, match=said) as record:
        crystal = Crystal.from_pymatgen(mixed)
    assert len(record) == 1
    assert crystal.species == ("Fe", "Fe", "O2-")


def test_as_crystals_names_index():
    good = load_example_crystal("Si")
    with pytest.raises(TypeError, match="crystal 1"):
        as_crystals([good, 42])
    with pytest.raises(FileNotFoundError, match="crystal 1"):
        as_crystals([good, "/no/such/file.cif"])


def test_supercell():
    cu = Crystal.from_wyckoff(225, [("Cu", "4a")], a=3.6149)
    big = cu.supercell((2, 1, 3))
    assert big.n_atoms == 24
    np.testing.assert_allclose(big.lattice, cu.lattice * [[2], [1], [3]])
    np.testing.assert_allclose(big.volume, 6 * cu.volume)
    assert big.composition == {"Cu": 24.0}
    assert big.get_space_group() == 225
    # every atom of the supercell sits on a site of the original cell
    cart = big.cartesian_coords
    frac = cart @ np.linalg.inv(cu.lattice) % 1.0
    diff = (frac[:, None] - cu.frac_coords[None] + 0.5) % 1.0 - 0.5
    assert np.all(np.abs(diff).max(axis=-1).min(axis=1) < 1e-9)
    for bad in (0, (1, 2), 1.5, (1, 1, -1)):
        with pytest.raises(ValueError, match="scaling"):
            cu.supercell(bad)


def _same_sites(a, b, tol=1e-4):
    """Every atom of ``a`` has an atom of ``b`` of its species at its position."""
    for sp, x, o in zip(a.species, a.frac_coords, a.occupancies):
        d = np.asarray(b.frac_coords) - x
        d -= np.round(d)
        close = (np.abs(d).max(axis=1) < tol) & (np.asarray(b.species) == sp)
        if not np.any(close & np.isclose(b.occupancies, o)):
            return False
    return True


def test_to_cif_keeps_the_symmetry():
    import warnings

    from skxrd.datasets import (
        EXAMPLE_CRYSTALS,
        load_example_crystal,
        load_materials_project,
    )

    mp = load_materials_project()
    crystals = [load_example_crystal(n) for n in EXAMPLE_CRYSTALS]
    crystals += [mp.crystals[i] for i in range(0, len(mp.crystals), 997)]
    for c in crystals:
        text = c.to_cif()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = Crystal.from_cif(text)
        sg = c.get_space_group()
        assert f"_symmetry_Int_Tables_number {sg}" in text, c.formula
        assert d.space_group == sg == d.get_space_group(), c.formula
        assert d.n_atoms == c.n_atoms and _same_sites(c, d) and _same_sites(d, c)
        np.testing.assert_allclose(
            d.lattice_parameters, c.lattice_parameters, atol=1e-6
        )
    # sites with other occupancies or B are not merged by the symmetry
    nacl = load_example_crystal("NaCl")
    occ = np.array(nacl.occupancies, float)
    occ[0] = 0.5
    mixed = Crystal(nacl.lattice, nacl.species, nacl.frac_coords, occupancies=occ)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = Crystal.from_cif(mixed.to_cif())
    assert back.n_atoms == mixed.n_atoms and _same_sites(mixed, back)
    # no symmetry: P1, every atom written
    rng = np.random.default_rng(0)
    p1 = Crystal(np.diag([4.1, 5.3, 6.7]), ["Si", "O", "O"], rng.random((3, 3)))
    assert "_symmetry_Int_Tables_number 1\n" in p1.to_cif()
    assert Crystal.from_cif(p1.to_cif()).n_atoms == 3


def test_cif_round_trip_keeps_ions():
    # ionic form factors: a neutral Na read back changed the (111) intensity
    ionic = Crystal.from_wyckoff(225, [("Na+", "4a"), ("Cl-", "4b")], a=5.64)
    back = Crystal.from_cif(ionic.to_cif())
    assert sorted(set(back.species)) == ["Cl-", "Na+"]
    assert set(Crystal.from_cif(load_example_crystal("Si").to_cif()).species) == {"Si"}


ROCKSALT_CIF = """data_rocksalt
_cell_length_a 4.21
_cell_length_b 4.21
_cell_length_c 4.21
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
M1 {cation} 0 0 0 1
X1 {anion} 0.5 0.5 0.5 1.0
"""


@pytest.mark.parametrize(
    "cation, anion, species",
    [
        ("Mg2+", "O2-", ["Mg2+", "O2-"]),  # xrayutilities' O2- is "O2-."
        ("Fe3+", "'O2-'", ["Fe3+", "O2-"]),
        ("Fe+3", "O-2", ["Fe3+", "O2-"]),  # the sign first, as GSAS-II writes
        ("Na1+", "Cl1-", ["Cl-", "Na+"]),
        ("Ru4+", "O2-", ["O2-", "Ru4+"]),
        ("Ca", "O", ["Ca", "O"]),
    ],
)
def test_cif_type_symbols_keep_ions(cation, anion, species):
    # ionic form factors differ from the atoms' at low angle: O2- read as O
    # changed the MgO pattern
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # all have form factors
        crystal = Crystal.from_cif(ROCKSALT_CIF.format(cation=cation, anion=anion))
    assert sorted(set(crystal.species)) == species
    assert crystal.n_atoms == 8 and crystal.space_group == 225


@pytest.mark.parametrize(
    "cation, anion", [("Mg-1", "O-1"), ("Mg-2", "O-12"), ("Mg1", "O1")]
)
def test_cif_labels_without_type_symbols_give_elements(cation, anion):
    # a label names a site, not an ion: "Mg-1" is Mg's site 1 (had become Mg-)
    text = (
        ROCKSALT_CIF.replace("_atom_site_type_symbol\n", "")
        .replace("M1 {cation}", "{cation}")
        .replace("X1 {anion}", "{anion}")
    )
    crystal = Crystal.from_cif(text.format(cation=cation, anion=anion))
    assert sorted(set(crystal.species)) == ["Mg", "O"]
    assert crystal.n_atoms == 8


LABELS_ONLY_CIF = (
    ROCKSALT_CIF.replace("_atom_site_type_symbol\n", "")
    .replace("M1 {cation}", "{cation}")
    .replace("X1 {anion}", "{anion}")
)


@pytest.mark.parametrize(
    "cation, anion, species",
    [
        # the letters before a digit name the element: xrayutilities dropped
        # the digits and read calcium, niobium, caesium, lead, silicon
        ("Mg1", "C1a", ["C", "Mg"]),
        ("Mg1", "N1b", ["Mg", "N"]),
        ("Mg1", "C1s", ["C", "Mg"]),
        ("Mg1", "P1b", ["Mg", "P"]),
        ("Mg1", "S1i", ["Mg", "S"]),
        # labels that failed: refinement and AMCSD site names, water oxygen
        ("Fe3A", "O1", ["Fe", "O"]),
        ("MgM1", "OB3", ["Mg", "O"]),
        ("KM", "Wat", ["K", "O"]),
        ("Tioct", "H1A", ["H", "Ti"]),
        ("NH3", "OW1", ["N", "O"]),
    ],
)
def test_cif_labels_name_their_element_by_the_leading_letters(cation, anion, species):
    crystal = Crystal.from_cif(LABELS_ONLY_CIF.format(cation=cation, anion=anion))
    assert sorted(set(crystal.species)) == species
    assert crystal.n_atoms == 8 and crystal.space_group == 225


@pytest.mark.parametrize("unknown", ["?", "."])
def test_cif_unknown_type_symbol_takes_the_element_of_the_label(unknown):
    # "?" had become xrayutilities' Dummy element: "unknown element 'Dummy'"
    text = ROCKSALT_CIF.replace("M1 {cation}", "Mg1 " + unknown)
    crystal = Crystal.from_cif(text.format(anion="O2-"))
    assert sorted(set(crystal.species)) == ["Mg", "O2-"]
    assert crystal.n_atoms == 8
    with pytest.raises(ValueError, match=r"site label 'M1' names no element"):
        Crystal.from_cif(ROCKSALT_CIF.format(cation=unknown, anion="O"))


def test_cif_label_in_capitals_is_read_by_the_formula_or_refused():
    # "FE1" is iron or fluorine, "CO1" cobalt or carbon: the block's formula
    # decides, and without one the label is refused, not guessed
    text = LABELS_ONLY_CIF.format(cation="FE1", anion="O1")
    with pytest.raises(ValueError, match=r"site label 'FE1' may name Fe or F"):
        Crystal.from_cif(text)
    with_formula = text.replace("loop_", "_chemical_formula_sum 'Fe O'\nloop_", 1)
    assert sorted(set(Crystal.from_cif(with_formula).species)) == ["Fe", "O"]
    carbon = LABELS_ONLY_CIF.format(cation="Mg1", anion="CO1").replace(
        "loop_", "_chemical_formula_sum 'Mg C'\nloop_", 1
    )
    assert sorted(set(Crystal.from_cif(carbon).species)) == ["C", "Mg"]
    with pytest.raises(ValueError, match=r"site label 'M1' names no element"):
        Crystal.from_cif(LABELS_ONLY_CIF.format(cation="M1", anion="O1"))


_WURTZITE_LIKE_CIF = """data_h
_cell_length_a 10
_cell_length_b 10
_cell_length_c 6
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
_symmetry_space_group_name_H-M 'P 63/m m c'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Zn1 Zn {x} {y} 0.25 {occ}
O1 O 0 0 0 1
"""


@pytest.mark.parametrize("x, y", [("0.333", "0.667"), ("0.33", "0.67")])
def test_cif_special_position_with_rounded_coordinates_is_one_site(x, y):
    # 2c (1/3, 2/3, 1/4) written with 3 or 2 decimals: its images 0.01 and
    # 0.1 Å apart were distinct atoms, 6 Zn for 2 (pymatgen reads 6 too)
    crystal = Crystal.from_cif(_WURTZITE_LIKE_CIF.format(x=x, y=y, occ=1))
    zn = np.array(crystal.species) == "Zn"
    assert zn.sum() == 2 and crystal.n_atoms == 4
    np.testing.assert_allclose(
        np.sort(crystal.frac_coords[zn, :2], axis=0), [[1 / 3, 1 / 3], [2 / 3, 2 / 3]]
    )
    assert crystal.get_space_group() == 194


def test_cif_split_site_near_a_special_position_is_kept():
    # half-occupied images 0.17 Å apart are a split site, not one atom
    crystal = Crystal.from_cif(_WURTZITE_LIKE_CIF.format(x=0.34, y=0.66, occ=0.5))
    zn = np.array(crystal.species) == "Zn"
    assert zn.sum() > 2


def test_cif_quoted_site_values_with_spaces_keep_the_columns():
    # xrayutilities split rows at whitespace inside quotes too: the column
    # after 'P D' was read one to the left, occupancy 1 and B = 8 pi^2 0.5
    text = """data_t
_cell_length_a 5
_cell_length_b 5
_cell_length_c 5
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_refinement_flags
_atom_site_occupancy
_atom_site_U_iso_or_equiv
'Fe 1' Fe 0.1 0.2 0.3 'P D' 0.5 0.02
O1 O 0.6 0.7 0.8 . 1 0.01
"""
    crystal = Crystal.from_cif(text)
    assert crystal.species == ("Fe", "O")
    np.testing.assert_allclose(crystal.occupancies, [0.5, 1.0])
    np.testing.assert_allclose(crystal.b_iso, 8 * np.pi**2 * np.array([0.02, 0.01]))
    labels_only = Crystal.from_cif(
        LABELS_ONLY_CIF.format(cation="'Fe 1'", anion="'O 1'")
    )
    assert sorted(set(labels_only.species)) == ["Fe", "O"]


def test_cif_ion_without_form_factor_is_kept_and_simulated_as_its_atom():
    # S2- has no X-ray form factor table: kept as written (xrayutilities had
    # dropped it with a printed notice), simulated with the neutral S's
    from skxrd.simulation import PowderSimulator

    crystal = Crystal.from_cif(ROCKSALT_CIF.format(cation="Zn2+", anion="S2-"))
    assert sorted(set(crystal.species)) == ["S2-", "Zn2+"]
    neutral = Crystal.from_cif(ROCKSALT_CIF.format(cation="Zn2+", anion="S"))
    assert sorted(set(neutral.species)) == ["S", "Zn2+"]
    sim = PowderSimulator()
    # and the simulator says so, once (the CIF reader no longer does)
    with pytest.warns(UserWarning, match=r"the ion S2-; .* \(S2- as S\)") as record:
        X = sim.transform([crystal, neutral])
    assert len(record) == 1
    np.testing.assert_array_equal(*X)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_cif_with_a_byte_order_mark(tmp_path, newline):
    # Windows editors start a UTF-8 file with a BOM: it was read as
    # "?data_rocksalt", and the file had "no data block with atom sites"
    text = ROCKSALT_CIF.format(cation="Mg", anion="O").replace("\n", newline)
    path = tmp_path / "bom.cif"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    for source in (path, "\ufeff" + text, b"\xef\xbb\xbf" + text.encode()):
        crystal = Crystal.from_cif(source)
        assert crystal.n_atoms == 8 and crystal.name == "rocksalt"


def test_cif_sites_without_fractional_coordinates_are_a_clear_error():
    # was "cannot be parsed (list indices must be integers or slices, not
    # NoneType)"
    cartesian = (
        ROCKSALT_CIF.format(cation="Mg", anion="O")
        .replace("_atom_site_fract_", "_atom_site_Cartn_")
        .replace("0.5 0.5 0.5", "2.105 2.105 2.105")
    )
    with pytest.raises(
        ValueError,
        match=r"CIF text: .*_atom_site_label has no _atom_site_fract_x, "
        r"_atom_site_fract_y, _atom_site_fract_z \(fractional coordinates\); "
        r"Cartesian _atom_site_Cartn_\* are not read",
    ):
        Crystal.from_cif(cartesian)


def test_cif_named_block_is_read_alone():
    # one unreadable block made every block of the file unreadable
    good = ROCKSALT_CIF.format(cation="Mg", anion="O")
    bad = good.replace("data_rocksalt", "data_bad").replace("Mg 0 0 0", "Xx 0 0 0")
    crystal = Crystal.from_cif(bad + good, dataset="rocksalt")
    assert crystal.n_atoms == 8 and crystal.name == "rocksalt"
    with pytest.raises(ValueError, match="Xx"):
        Crystal.from_cif(bad + good, dataset="bad")
    with pytest.raises(
        ValueError, match=r"no data block 'x' \(has \['bad', 'rocksalt'\]\)"
    ):
        Crystal.from_cif(bad + good, dataset="x")


def test_cif_block_names_ignore_case():
    # CIF 1.1: block names are case-insensitive; dataset="RockSalt" was "no
    # data block 'RockSalt' (has ['rocksalt'])"
    good = ROCKSALT_CIF.format(cation="Mg", anion="O")
    crystal = Crystal.from_cif(good, dataset="RockSalt")
    assert crystal.n_atoms == 8 and crystal.name == "rocksalt"
    # an exact match comes first; the same name twice is an error, not the first
    other = ROCKSALT_CIF.format(cation="Ca", anion="O").replace(
        "data_rocksalt", "data_ROCKSALT"
    )
    assert "Ca" in Crystal.from_cif(good + other, dataset="ROCKSALT").formula
    assert "Mg" in Crystal.from_cif(good + other, dataset="rocksalt").formula
    with pytest.raises(ValueError, match="2 data blocks are named 'RockSalt'"):
        Crystal.from_cif(good + other, dataset="RockSalt")


def test_cif_sources_that_are_not_files_or_text():
    with pytest.raises(ValueError, match="the CIF text is empty"):
        Crystal.from_cif("")
    with pytest.raises(ValueError, match="takes a CIF file's path or text, got int"):
        Crystal.from_cif(5)
    # bytes are the CIF's contents
    text = load_example_crystal("NaCl").to_cif()
    assert Crystal.from_cif(text.encode()).n_atoms == 8


def test_wyckoff_sites_run_from_most_special_to_general():
    # the documented order: letters a..z then A (Pmmm's 8A), general last
    for number in range(1, 231):
        sites = list(wyckoff_sites(number).values())
        letters = [s.letter for s in sites]
        assert letters == sorted(letters, key=lambda x: (x.isupper(), x)), number
        assert [s.multiplicity for s in sites] == sorted(
            s.multiplicity for s in sites
        ), number
        assert sites[-1] is general_position(number), number
    assert list(wyckoff_sites(47))[-1] == "8A"


def test_random_crystals_keep_xrayutilities_site_order():
    # seeded draws index the sites: their order must not move with the fix above
    from skxrd.datasets._random import _setting_sites

    labels = [s.label for s in _setting_sites(47)]
    assert labels == list(_available_settings()["47"]) and labels[0] == "8A"


def _random_lattice(key, rng):
    from skxrd.crystal import to_crystal_system

    number = int(key.split(":")[0])
    a, b, c = rng.uniform(5, 9, 3)
    system = to_crystal_system(number)
    if system == "triclinic":
        return dict(a=a, b=b, c=c, alpha=85, beta=95, gamma=101)
    if system == "monoclinic":
        angle = {"a": "alpha", "b": "beta", "c": "gamma"}[key.split(":")[1][0]]
        return {"a": a, "b": b, "c": c, angle: 97.0}
    if system == "orthorhombic":
        return dict(a=a, b=b, c=c)
    if system == "cubic":
        return dict(a=a)
    return dict(a=a, alpha=77.0) if key.endswith(":R") else dict(a=a, c=c)


def test_from_wyckoff_general_positions_have_their_group():
    # Two general orbits at generic points of every setting of xrayutilities'
    # tables: spglib finds exactly that group (one orbit alone can gain an
    # inversion or a mirror in polar groups).
    rng = np.random.default_rng(0)
    for key in _available_settings():
        label = general_position(key).label
        crystal = Crystal.from_wyckoff(
            key,
            [
                ("Na", label, tuple(rng.uniform(0.06, 0.19, 3))),
                ("Cl", label, tuple(rng.uniform(0.31, 0.44, 3))),
            ],
            **_random_lattice(key, rng),
        )
        assert crystal.get_space_group() == int(key.split(":")[0]), key


def test_wyckoff_sites_agree_with_pyxtal():
    pyxtal_symmetry = pytest.importorskip("pyxtal.symmetry")
    rng = np.random.default_rng(1)
    for number in range(1, 231):
        theirs = {
            f"{wp.multiplicity}{wp.letter}": wp
            for wp in pyxtal_symmetry.Group(number).Wyckoff_positions
        }
        ours = wyckoff_sites(number)
        assert set(theirs) == set(ours), number
        for label, site in ours.items():
            pos = site.positions(rng.random(3))
            orbit = np.mod(np.array(theirs[label].apply_ops(pos[0])), 1)
            d = orbit[:, None] - pos[None]
            d -= np.round(d)
            assert len(orbit) == len(pos), (number, label)
            assert np.all(np.abs(d).max(-1).min(-1) < 1e-6), (number, label)


@pytest.mark.parametrize(
    ("symprec", "error"),
    [
        (-1.0, ValueError),
        (float("nan"), ValueError),
        (0.0, ValueError),
        (float("inf"), ValueError),
        ("0.1", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_symprec_is_checked_before_spglib(symprec, error):
    # spglib dies with a segmentation fault on a negative or NaN tolerance
    from skxrd.crystal import describe_structure, prototype_label

    nacl = Crystal.from_wyckoff(225, [("Na", "4a"), ("Cl", "4b")], a=5.64)
    for call in (nacl.get_space_group, lambda s: describe_structure(nacl, s)):
        with pytest.raises(error, match="symprec must be a positive"):
            call(symprec)
    with pytest.raises(error, match="symprec"):
        prototype_label(nacl, symprec)
    assert nacl.get_space_group(np.float32(1e-3)) == 225
