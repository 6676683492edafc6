"""
Simulated against measured: NaCl at a synchrotron
=================================================

A measured powder pattern of rock salt (SSRL beamline 2-1, λ = 0.7291 Å, one of
the patterns bundled with :func:`skxrd.datasets.load_measured_examples`) next to
the pattern that :class:`~skxrd.simulation.PowderSimulator` computes for
:func:`~skxrd.datasets.load_example_crystal` ``("NaCl")`` at the same
wavelength. The two are then compared on the Q axis against a laboratory
Cu Kα simulation: Bragg's law maps every pattern onto the same Q positions,
whatever its wavelength.
"""

# %%
# The measured pattern
# --------------------
# Each bundled pattern is a :class:`~skxrd.io.Pattern` that knows its wavelength;
# ``DESCR`` gives the provenance and the licence of the files.
import matplotlib.pyplot as plt
import numpy as np

from skxrd.datasets import load_example_crystal, load_measured_examples
from skxrd.inspection import PatternDisplay
from skxrd.io import Pattern
from skxrd.preprocessing import BackgroundSubtractor
from skxrd.simulation import PowderSimulator

measured = load_measured_examples(source="ssrl")
index = measured.names.index("NaCl")
nacl_measured = measured.patterns[index]
print(nacl_measured, "-", measured.crystal_system[index])

# %%
# The simulated pattern, same wavelength and range
# ------------------------------------------------
# ``radiation="xray"`` with a ``wavelength`` gives a single line (a synchrotron
# has no Kα2). The instrument broadening of the beamline is narrower than the
# laboratory default, hence the smaller Caglioti ``W``.
wavelength = nacl_measured.wavelength
sim = PowderSimulator(
    radiation="xray",
    wavelength=wavelength,
    two_theta_range=(5.0, 45.0),
    two_theta_step=0.005,
    caglioti_uvw=(0.0, 0.0, 0.0004),
)
nacl = load_example_crystal("NaCl")
simulated = Pattern(
    sim.two_theta,
    sim.transform([nacl])[0],
    wavelength=wavelength,
    name="NaCl, simulated",
)
peaks = sim.peaks([nacl])[0]
print(peaks.to_table(6))

# %%
# The measured pattern has a background (air scattering, the capillary): the
# SNIP filter of :class:`~skxrd.preprocessing.BackgroundSubtractor` removes it
# before the two are drawn together. ``PatternDisplay`` stacks the patterns
# and draws the simulated line positions as ticks.
keep = (nacl_measured.x >= 5.0) & (nacl_measured.x <= 45.0)
x, y = nacl_measured.x[keep], nacl_measured.intensity[keep]
y = BackgroundSubtractor(method="snip").fit_transform(y[None, :])[0]
nacl_clean = Pattern(x, y, wavelength=wavelength, name="NaCl, measured (SSRL)")

display = PatternDisplay.from_patterns(
    [nacl_clean, simulated], peaks=[peaks, None], peak_labels="NaCl lines"
)
display.ax_.set_title(f"NaCl, λ = {wavelength:.4f} Å")
display.figure_.set_size_inches(9, 5)

# %%
# Peak positions agree
# --------------------
# For each of the strongest simulated lines, the nearest local maximum of the
# measured pattern:
for two_theta in np.sort(peaks.two_theta[np.argsort(-peaks.intensity)[:5]]):
    window = np.abs(x - two_theta) < 0.15
    found = x[window][np.argmax(y[window])]
    print(f"simulated {two_theta:7.3f}°   measured {found:7.3f}°")

# %%
# Any wavelength on the Q axis
# ----------------------------
# A Cu Kα laboratory pattern of the same crystal has its lines at larger 2θ,
# but at the same Q = 4π sin θ / λ. ``PatternDisplay(axis="q")`` converts each
# pattern with its own wavelength.
cu = PowderSimulator(radiation="CuKa", two_theta_range=(10.0, 100.0))
cu_pattern = Pattern(
    cu.two_theta,
    cu.transform([nacl])[0],
    wavelength="CuKa",
    name="NaCl, simulated Cu Kα",
)
display = PatternDisplay.from_patterns([nacl_clean, cu_pattern], axis="q")
display.ax_.set_xlim(1.0, 5.5)
display.figure_.set_size_inches(9, 4)
plt.show()
