import math
import pickle

import numpy as np
import pytest

from skxrd.io import Pattern, q_to_two_theta, two_theta_to_q
from skxrd.simulation import get_radiation

CU = get_radiation("CuKa1").wavelength
MO = get_radiation("MoKa1").wavelength


def test_basic_attributes_and_copies():
    x = np.array([10.0, 20.0, 30.0])
    y = np.array([1.0, 3.0, 2.0])
    p = Pattern(x, y, wavelength=1.5406, name="a", metadata={"k": 1})
    x[0] = 99.0
    y[0] = 99.0
    assert p.x.tolist() == [10.0, 20.0, 30.0]
    assert p.intensity.tolist() == [1.0, 3.0, 2.0]
    assert p.x.dtype == np.float64 and p.intensity.dtype == np.float64
    assert p.axis == "two_theta" and p.wavelength == 1.5406 and p.radiation is None
    assert p.uncertainty is None and p.metadata == {"k": 1} and p.name == "a"
    assert len(p) == 3


def test_read_only():
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength="CuKa")
    with pytest.raises(ValueError, match="read-only"):
        p.x[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        p.intensity[0] = 5.0
    with pytest.raises(AttributeError):
        p.wavelength = 1.0
    with pytest.raises(AttributeError):
        p.new_attribute = 1


def test_decreasing_and_unsorted_x_are_sorted():
    p = Pattern([30, 20, 10], [3, 2, 1], uncertainty=[0.3, 0.2, 0.1], wavelength=1.0)
    assert p.x.tolist() == [10, 20, 30]
    assert p.intensity.tolist() == [1, 2, 3]
    assert p.uncertainty.tolist() == [0.1, 0.2, 0.3]
    p = Pattern([20, 10, 30], [2, 1, 3], wavelength=1.0)
    assert p.x.tolist() == [10, 20, 30] and p.intensity.tolist() == [1, 2, 3]
    assert np.all(np.diff(p.x) > 0)


def test_duplicates_are_rejected_with_indices():
    with pytest.raises(ValueError, match=r"duplicate value 20.0 at indices 1 and 3"):
        Pattern([10, 20, 30, 20], [1, 2, 3, 4], wavelength=1.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_is_rejected_with_index(bad):
    with pytest.raises(ValueError, match=r"x contains a non-finite value .* index 2"):
        Pattern([10, 20, bad, 40], [1, 2, 3, 4], wavelength=1.0)


def test_nan_intensity_is_rejected_with_index():
    with pytest.raises(ValueError, match=r"intensity .*non-finite.* index 1"):
        Pattern([10, 20, 30], [1, np.nan, 3], wavelength=1.0)
    with pytest.raises(ValueError, match=r"uncertainty .*non-finite.* index 0"):
        Pattern([10, 20], [1, 2], uncertainty=[np.inf, 1], wavelength=1.0)


def test_shape_errors():
    with pytest.raises(ValueError, match="intensity has 2 values but x has 3"):
        Pattern([10, 20, 30], [1, 2], wavelength=1.0)
    with pytest.raises(ValueError, match="uncertainty has 1 values"):
        Pattern([10, 20], [1, 2], uncertainty=[1], wavelength=1.0)
    with pytest.raises(ValueError, match="1D"):
        Pattern([[10, 20]], [[1, 2]], wavelength=1.0)
    with pytest.raises(ValueError, match="at least 2 points"):
        Pattern([10], [1], wavelength=1.0)
    with pytest.raises(ValueError, match="numbers"):
        Pattern(["a", "b"], [1, 2], wavelength=1.0)
    with pytest.raises(ValueError, match="non-negative"):
        Pattern([10, 20], [1, 2], uncertainty=[1, -1], wavelength=1.0)


def test_axis_ranges():
    with pytest.raises(ValueError, match=r"\[0, 180\].*x\[1\]"):
        Pattern([10, 190], [1, 2], wavelength=1.0)
    with pytest.raises(ValueError, match="axis must be"):
        Pattern([10, 20], [1, 2], axis="d", wavelength=1.0)
    with pytest.raises(ValueError, match=r"Q must lie between 0.*x\[0\]"):
        Pattern([-1, 2], [1, 2], axis="q")
    # Q beyond the reach of the pattern's own wavelength
    with pytest.raises(ValueError, match=r"4π/λ.*x\[1\]"):
        Pattern([1.0, 10.0], [1, 2], axis="q", wavelength=CU)


def test_wavelength_resolution():
    with pytest.raises(ValueError, match="needs a wavelength"):
        Pattern([10, 20], [1, 2])
    p = Pattern([10, 20], [1, 2], wavelength="CuKa")
    assert p.wavelength == CU and p.radiation.name == "CuKa"
    p = Pattern([10, 20], [1, 2], radiation="Mo Kα1")
    assert p.wavelength == MO and p.radiation.name == "MoKa1"
    p = Pattern([10, 20], [1, 2], radiation=get_radiation("AgKa"))
    assert p.wavelength == get_radiation("AgKa").wavelength
    p = Pattern([10, 20], [1, 2], radiation="CuKa", wavelength=CU)
    assert p.wavelength == CU
    with pytest.raises(ValueError, match="disagrees"):
        Pattern([10, 20], [1, 2], radiation="CuKa", wavelength=0.7)
    with pytest.raises(ValueError, match="disagrees"):
        Pattern([10, 20], [1, 2], radiation="CuKa", wavelength="MoKa")
    with pytest.raises(ValueError, match="unknown radiation"):
        Pattern([10, 20], [1, 2], wavelength="UnobtainiumKa")
    with pytest.raises(ValueError, match="positive wavelength"):
        Pattern([10, 20], [1, 2], wavelength=-1.0)


def test_bragg_conversions():
    d = 5.431 / math.sqrt(3)  # Si (111)
    tt = math.degrees(2 * math.asin(CU / (2 * d)))
    p = Pattern([tt, 60.0], [1, 2], wavelength=CU)
    assert p.q[0] == pytest.approx(2 * math.pi / d, rel=1e-12)
    assert np.allclose(p.q, 4 * np.pi * np.sin(np.radians(p.x) / 2) / CU)
    q = p.to_q()
    assert q.axis == "q" and q.wavelength == CU
    assert np.allclose(q.two_theta, p.x, atol=1e-10)
    assert q.to_q() is q and p.to_two_theta() is p
    # The same d-spacing at another wavelength
    tt_mo = p.two_theta_at("MoKa1")
    assert tt_mo[0] == pytest.approx(math.degrees(2 * math.asin(MO / (2 * d))))
    mo = p.to_two_theta("MoKa1")
    # only the axis changes: the intensities were not measured with Mo
    assert mo.wavelength == MO and mo.radiation is None
    assert np.allclose(mo.q, p.q)
    assert np.allclose(q.to_two_theta().x, p.x)


def test_q_axis_without_wavelength():
    p = Pattern([1.0, 2.0, 9.0], [1, 2, 3], axis="q")
    assert p.wavelength is None
    assert p.q.tolist() == [1.0, 2.0, 9.0]
    with pytest.raises(ValueError, match="without a wavelength"):
        _ = p.two_theta
    tt = p.two_theta_at(CU)
    assert np.isnan(tt[2]) and np.all(np.isfinite(tt[:2]))  # Q = 9 > 4π/λ
    with pytest.raises(ValueError, match="beyond the reach"):
        p.to_two_theta(CU)
    assert p.to_two_theta(MO).x[2] == pytest.approx(q_to_two_theta(9.0, MO))


def test_helpers():
    assert two_theta_to_q(180.0, 1.0) == pytest.approx(4 * np.pi)
    assert q_to_two_theta(4 * np.pi, 1.0) == pytest.approx(180.0)
    assert np.isnan(q_to_two_theta(4 * np.pi * 1.01, 1.0))


def test_repr():
    p = Pattern(np.linspace(5, 90, 11), np.ones(11), wavelength="CuKa", name="si")
    text = repr(p)
    assert "'si'" in text and "11 points" in text and "5–90°" in text
    assert "CuKa" in text and "1.54059" in text
    assert "Å⁻¹" in repr(p.to_q())


def test_pickle_keeps_values_and_read_only():
    p = Pattern([10, 20], [1, 2], uncertainty=[0.1, 0.2], radiation="CuKa", name="n")
    again = pickle.loads(pickle.dumps(p))
    assert np.array_equal(again.x, p.x) and np.array_equal(again.intensity, p.intensity)
    assert np.array_equal(again.uncertainty, p.uncertainty)
    assert again.radiation == p.radiation and again.name == "n"
    assert not again.x.flags.writeable and not again.intensity.flags.writeable
    with pytest.raises(AttributeError):
        again.name = "other"


def test_metadata_is_copied_and_validated():
    meta = {"instrument": "D8"}
    p = Pattern([10, 20], [1, 2], wavelength=1.0, metadata=meta)
    meta["instrument"] = "other"
    assert p.metadata == {"instrument": "D8"}
    with pytest.raises(ValueError, match="mapping"):
        Pattern([10, 20], [1, 2], wavelength=1.0, metadata=[1])
    with pytest.raises(ValueError, match="name"):
        Pattern([10, 20], [1, 2], wavelength=1.0, name=3)


def test_a_new_two_theta_axis_keeps_only_its_own_radiation():
    # Cu data on a Mo axis is no Mo Kalpha1 + Kalpha2 pattern, whose Kalpha2
    # a model would strip; on its own axis it keeps its radiation
    p = Pattern([20.0, 30.0], [1.0, 2.0], radiation="CuKa")
    assert p.to_two_theta("MoKa").radiation is None
    assert p.to_two_theta(p.wavelength).radiation.name == "CuKa"
    assert p.to_q().radiation.name == "CuKa"


def test_a_kind_of_radiation_with_its_wavelength():
    p = Pattern([10.0, 20.0], [1.0, 2.0], radiation="neutron", wavelength=1.5)
    assert p.radiation.kind == "neutron" and p.wavelength == 1.5


# --------------------------------------------------------- audit of 2026-12-07
@pytest.mark.parametrize("bad", [0.0, -1.5, np.nan, np.inf, None, "CuKa", True])
def test_conversion_helpers_refuse_a_bad_wavelength(bad):
    # a negative wavelength gave mirrored angles, 0 gave inf, NaN gave NaN
    with pytest.raises(ValueError, match="wavelength must be a positive number"):
        two_theta_to_q([10.0, 20.0], bad)
    with pytest.raises(ValueError, match="wavelength must be a positive number"):
        q_to_two_theta([1.0, 2.0], bad)


def test_two_theta_beyond_180_degrees_has_no_q():
    # 200 deg folded back onto the Q of 160 deg
    q = two_theta_to_q([-200.0, -10.0, 10.0, 180.0, 200.0], CU)
    assert np.isnan(q[[0, 4]]).all()
    assert q[1] == -q[2] and q[3] == pytest.approx(4 * np.pi / CU)
    assert two_theta_to_q(np.float32(20.0), np.float64(CU)) > 0


@pytest.mark.parametrize("what", ["x", "intensity", "uncertainty"])
def test_masked_points_are_refused_not_read_as_data(what):
    # np.array drops the mask: the masked value was used as a measurement
    arrays = {"x": [10.0, 20.0, 30.0], "intensity": [1.0, 2.0, 3.0]}
    arrays["uncertainty"] = [0.1, 0.2, 0.3]
    arrays[what] = np.ma.masked_array(arrays[what], mask=[0, 1, 0])
    with pytest.raises(ValueError, match=rf"{what} is a masked array .* index 1"):
        Pattern(
            arrays["x"],
            arrays["intensity"],
            uncertainty=arrays["uncertainty"],
            wavelength=CU,
        )
    # a masked array without masked points is plain data
    p = Pattern(np.ma.masked_array([10.0, 20.0]), [1.0, 2.0], wavelength=CU)
    assert p.x.tolist() == [10.0, 20.0] and type(p.x) is np.ndarray


def test_a_number_too_large_for_float64_is_a_value_error():
    with pytest.raises(ValueError, match="intensity holds a number too large"):
        Pattern([10.0, 20.0], [10**400, 1], wavelength=CU)


def test_metadata_is_deep_copied():
    meta = {"header": ["# a"], "sample": {"temperature": [293.15]}}
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=CU, metadata=meta)
    meta["header"].append("# caller's later line")
    meta["sample"]["temperature"].append(0.0)
    assert p.metadata == {"header": ["# a"], "sample": {"temperature": [293.15]}}
    # a pattern made from p does not share p's lists
    q = p.to_q()
    q.metadata["header"].append("# changed on the Q pattern")
    p.to_two_theta(MO).metadata["sample"]["temperature"][0] = -1.0
    assert p.metadata == {"header": ["# a"], "sample": {"temperature": [293.15]}}


def test_copy_does_not_share_metadata():
    import copy

    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=CU, metadata={"h": [1]})
    c = copy.copy(p)
    c.metadata["new"] = 1
    c.metadata["h"].append(2)
    assert p.metadata == {"h": [1]}
    assert copy.deepcopy(p).metadata == {"h": [1]}


def test_metadata_that_cannot_be_copied_is_kept():
    import threading

    lock = threading.Lock()
    loop = []
    loop.append(loop)
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=CU, metadata={"lock": lock})
    assert p.metadata["lock"] is lock
    p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=CU, metadata={"loop": loop})
    assert p.metadata["loop"][0] is p.metadata["loop"]


def test_repr_tells_close_ends_apart():
    p = Pattern([10.000001, 10.000002], [1.0, 2.0], wavelength=CU)
    assert "10.000001–10.000002°" in repr(p)  # was "10–10°"
    assert "5–90°" in repr(Pattern([5.0, 90.0], [1.0, 2.0], wavelength=CU))


def test_methods_leave_the_callers_arrays_and_the_pattern_unchanged():
    x = np.array([30.0, 10.0, 20.0])
    y = np.array([3.0, 1.0, 2.0], dtype=np.float32)
    s = np.array([0.3, 0.1, 0.2])
    copies = [a.copy() for a in (x, y, s)]
    p = Pattern(x, y, uncertainty=s, radiation="CuKa", metadata={"k": [1]})
    before = (p.x.copy(), p.intensity.copy(), p.uncertainty.copy())
    results = [
        p.q,
        p.two_theta,
        p.two_theta_at("MoKa"),
        p.to_q(),
        p.to_q().to_two_theta(),
        p.to_two_theta("MoKa"),
        p.to_two_theta(CU),
        repr(p),
        pickle.loads(pickle.dumps(p)),
    ]
    for mine, kept in zip((x, y, s), copies):
        assert np.array_equal(mine, kept) and mine.flags.writeable
    assert y.dtype == np.float32 and p.intensity.dtype == np.float64
    for now, then in zip((p.x, p.intensity, p.uncertainty), before):
        assert np.array_equal(now, then)
    assert p.axis == "two_theta" and p.radiation.name == "CuKa"
    assert p.metadata == {"k": [1]} and len(results) == 9
    # the 2θ -> Q -> 2θ round trip is exact to a few ulps away from 180°
    back = p.to_q().to_two_theta()
    assert np.allclose(back.x, p.x, rtol=4 * np.finfo(float).eps, atol=0)
    assert np.array_equal(back.intensity, p.intensity)
    assert back.radiation == p.radiation


@pytest.mark.parametrize(
    "fields, problem",
    [
        (("xray", (-1.5,), (1.0,)), "not all in"),
        (("xray", (np.nan,), (1.0,)), "not all in"),
        (("electron", (0.02,), (1.0,)), "kind is 'electron'"),
        (("xray", (1.5, 1.54), (1.0,)), "as many weights"),
        (("xray", (), ()), "as many weights"),
        (("xray", (1.5, 1.54), (1.0, -0.5)), "weights .* not all finite"),
        # weights relative to a primary line of no intensity: Kα2 stripping
        # of such a doublet failed with a ZeroDivisionError
        (("xray", (0.70932, 0.71361), (0.0, 0.5)), "primary .* weight 0.0"),
        (("xray", (1.5,), (0.0,)), "primary .* weight 0.0"),
        # a string is not a sequence of numbers ("2" read as (2.0,))
        (("xray", "2", (1.0,)), "sequences of numbers"),
        (("xray", (1.5,), "1"), "sequences of numbers"),
    ],
)
def test_a_radiation_object_is_checked(fields, problem):
    # Radiation("xray", (-1.5,), ...) gave a pattern of wavelength -1.5 Å; the
    # object is now refused where it is made, so no path can take one
    from skxrd.utils._radiation import Radiation

    with pytest.raises(ValueError, match=f"not a usable radiation: .*{problem}"):
        Radiation(*fields, "custom")
    good = Radiation("neutron", (1.5,), (1.0,), "custom")
    assert Pattern([10.0, 20.0], [1.0, 2.0], radiation=good).wavelength == 1.5
    assert Pattern([10.0, 20.0], [1.0, 2.0], wavelength=good).wavelength == 1.5


def test_a_radiation_object_stores_tuples_of_float():
    # lists and numpy values are stored as tuples of float, so two equal
    # radiations compare and hash equal and a frozen object stays unchanged
    from skxrd.utils._radiation import Radiation

    a = Radiation("xray", [np.float32(1.5), 1.6], np.array([1.0, 0.5]), "mine")
    b = Radiation("xray", (1.5, 1.6), (1.0, 0.5), "mine")
    assert a.wavelengths == (float(np.float32(1.5)), 1.6)
    assert type(a.wavelengths) is tuple and type(a.weights[0]) is float
    assert a == b and hash(a) == hash(b)
    with pytest.raises(ValueError, match="name 3 is not a str"):
        Radiation("xray", (1.5,), (1.0,), 3)
    with pytest.raises(ValueError, match="must be sequences of numbers"):
        Radiation("xray", 1.5, (1.0,), "x")  # a bare float is not a tuple


@pytest.mark.parametrize("lam", [0.1, 0.7093, 1.5406, 5.0])
def test_two_theta_q_round_trips(lam):
    # 2θ -> Q -> 2θ and Q -> 2θ -> Q give the points back, intensities as
    # they are, over the whole range (2θ loses digits near 180°, where
    # sin θ is flat)
    rng = np.random.default_rng(int(lam * 1000))
    for _ in range(50):
        x = np.unique(np.concatenate([rng.uniform(0, 180, 30), [0.0, 180.0]]))
        p = Pattern(x, rng.normal(size=len(x)), wavelength=lam)
        back = p.to_q().to_two_theta()
        np.testing.assert_allclose(back.x, p.x, rtol=0, atol=1e-9)
        assert np.array_equal(back.intensity, p.intensity)
        q = np.unique(rng.uniform(0, 4 * np.pi / lam, 30))
        pq = Pattern(q, np.ones(len(q)), axis="q", wavelength=lam)
        np.testing.assert_allclose(pq.to_two_theta().to_q().x, q, rtol=1e-15)


def test_conversion_names_points_that_fall_together_near_180_degrees():
    # 1e-7 degrees apart at 180°: the same Q in float64, and to_q said "x has
    # the duplicate value 8.1568..." of points the caller never gave
    p = Pattern([90.0, 179.9999999, 180.0], [1.0, 2.0, 3.0], wavelength=1.5406)
    with pytest.raises(ValueError, match=r"x\[1\] = 179.9999999 and x\[2\] = 180.0"):
        p.to_q()
    with pytest.raises(ValueError, match=r"both convert to Q = 8.156802943"):
        p.to_q()


@pytest.mark.parametrize(
    ("stated", "anode"),
    [(1.5418, "CuKa"), (1.54184, "CuKa"), (0.7107, "MoKa"), (0.711, "MoKa"),
     (1.7903, "CoKa"), (1.9373, "FeKa"), (2.291, "CrKa"), (0.5609, "AgKa")],
)  # fmt: skip
def test_a_stated_kalpha_mean_is_read_as_the_anodes_doublet(stated, anode):
    # RRUFF states its Cu Kα patterns (Kα2 not stripped) as 1.5418 Å: read as
    # one line, the model converted their peaks 0.08 % off its Kα1 positions
    with pytest.warns(UserWarning, match=f"read as the '{anode}' doublet"):
        p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=stated)
    assert p.radiation.name == anode
    assert p.wavelength == get_radiation(anode).wavelength
    assert len(p.radiation.wavelengths) == 2


def test_kalpha1_and_a_monochromatic_wavelength_are_read_as_given():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lam in (1.5406, 1.54059, 1.5444, 0.70932, 0.7293, 1.5412):
            p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=lam)
            assert p.wavelength == lam and p.radiation is None
        # a beam at the mean's wavelength itself: named as one
        p = Pattern([10.0, 20.0], [1.0, 2.0], wavelength=1.5418, radiation="xray")
        assert p.wavelength == 1.5418 and p.radiation.wavelengths == (1.5418,)
