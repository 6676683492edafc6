"""Read powder patterns from IUCr powder CIF (pdCIF) files.

A small tokenizer for the part of CIF 1.1 that powder data use (data blocks,
``tag value`` pairs, ``loop_`` tables, quoted strings, ``;`` text fields,
comments, ``.`` and ``?`` for missing values, numbers with a standard
uncertainty in parentheses such as ``1234(35)``). DDLm names with a dot
(``_pd_meas.2theta_scan``) are read as their underscore forms. Structures are
read by :mod:`skxrd.crystal`, not here: a file without powder data is an error
that says so.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import numpy as np

from ._readers import (
    PatternFormatError,
    _bad_wavelength,
    _decode,
    _Found,
    _ordered,
    _radiation_from_lines,
    _refuse_cut,
    _utf16_without_bom,
)

__all__ = ["read_pdcif", "looks_like_cif", "is_structure_cif"]

# intensities, most raw first; a calculated pattern only when nothing else is
_INTENSITY_TAGS = (
    "_pd_meas_counts_total",
    "_pd_meas_intensity_total",
    "_pd_proc_intensity_total",
    "_pd_proc_intensity_net",
    "_pd_calc_intensity_total",
)
_MEAS_X = ("_pd_meas_2theta_scan", "_pd_meas_angle_2theta")
_PROC_X = ("_pd_proc_2theta_corrected",)
# x axes that are not 2θ: named in the error rather than misread as 2θ
_OTHER_X = {
    "_pd_meas_time_of_flight": "time of flight",
    "_pd_proc_d_spacing": "d-spacing",
    "_pd_proc_recip_len_q": "Q",
    "_pd_proc_energy_incident": "energy",
    "_pd_proc_energy_detection": "energy",
    "_pd_proc_wavelength": "wavelength (energy-dispersive)",
}
_STRUCTURE_TAGS = ("_atom_site_fract_x", "_atom_site_label", "_cell_length_a")
_WAVELENGTH_TAGS = (
    "_diffrn_radiation_wavelength",
    "_diffrn_radiation_wavelength_value",
)
_WEIGHT_TAGS = ("_diffrn_radiation_wavelength_wt",)

_NUMBER = re.compile(r"([+-]?(?:\d+\.?(\d*)|\.(\d+)))(?:[eE]([+-]?\d+))?(?:\((\d+)\))?")
_TOKEN = re.compile(
    r"""'(?:[^']|'(?=\S))*'(?=\s|$)|"(?:[^"]|"(?=\S))*"(?=\s|$)|#.*|\S+"""
)
_MISSING = (".", "?")
# one number with a decimal comma and no point, an s.u. after it
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+(?:\(\d+\))?")


_DATA_BLOCK = re.compile(rb"data_\S+(\s+(#|_|loop_).*)?", re.IGNORECASE)
_CIF_ITEM = re.compile(rb"(_|loop_|save_|global_|;)", re.IGNORECASE)


def looks_like_cif(data: bytes, strict: bool = True) -> bool:
    """True when the first line that is neither blank nor a comment opens a
    CIF data block (``data_name``, one word; COD files open with comment
    lines) and the next holds CIF (a ``_tag``, ``loop_``...).

    A text-columns file whose title happens to start with ``data_``
    (``data_set1 quartz``, ``data_1.xy`` above the numbers) is not CIF.
    With ``strict=False`` (a ``.cif`` file) a first line opening with
    ``data_`` is enough, so that the reader names what is wrong."""
    head = data[:65536]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    lines = (s.strip() for s in head.splitlines())
    lines = list(itertools.islice((s for s in lines if s and s[:1] != b"#"), 2))
    if not lines:
        return False
    if not strict:
        return lines[0][:5].lower() == b"data_" and len(lines[0]) > 5
    if not _DATA_BLOCK.fullmatch(lines[0]):
        return False
    return len(lines) == 1 or bool(_CIF_ITEM.match(lines[1]))


def is_structure_cif(path, max_bytes: int | None = None) -> bool:
    """Whether the file at ``path`` is a CIF without powder data: no loop of
    the intensities :func:`read_pdcif` reads (``_pd_meas_counts_total``,
    ``_pd_proc_intensity_total``...), as a crystal structure's CIF.

    For ``skxrd watch``, which passes such files over rather than report
    each as an error. The file is not parsed: its lines are read up to the
    first loop header naming an intensity tag (of a powder CIF, most often
    near the top; the reader then parses the file once), or to the end.
    False, leaving the reader to say what is wrong, for content that is not
    CIF, is not ASCII-compatible (UTF-16) or runs past ``max_bytes``."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
        if (
            not looks_like_cif(head, strict=False)
            or head.startswith((b"\xff\xfe", b"\xfe\xff"))
            or _utf16_without_bom(head[:4096])
        ):
            return False
        fh.seek(0)
        in_loop_header = False
        read = 0
        for chunk in fh:
            read += len(chunk)
            if max_bytes is not None and read > max_bytes:
                return False  # the reader refuses it for its size
            for line in chunk.splitlines():  # a lone CR ends a line too
                for tok in line.split():
                    if tok[:1] == b"#":
                        break  # a comment to the end of the line
                    if tok.lower() == b"loop_":
                        in_loop_header = True
                    elif tok[:1] != b"_":
                        in_loop_header = False  # the loop's values
                    elif in_loop_header:
                        tag = tok.decode("ascii", "replace")
                        if _norm(tag) in _INTENSITY_TAGS:
                            return False
    return True


class _Block:
    def __init__(self, name: str, line: int):
        self.name, self.line = name, line
        self.items: dict[str, tuple[str, int, bool]] = {}  # tag: (value, line, quoted)
        self.loops: list[_Loop] = []

    def tags(self):
        yield from self.items
        for loop in self.loops:
            yield from loop.tags


class _Loop:
    def __init__(self, line: int):
        self.line = line
        self.tags: list[str] = []
        self.values: list[tuple[str, int, bool]] = []

    def column(self, tag: str):
        i, n = self.tags.index(tag), len(self.tags)
        return self.values[i::n]

    @property
    def rows(self) -> int:
        return len(self.values) // max(len(self.tags), 1)


def _norm(tag: str) -> str:
    return tag.lower().replace(".", "_")


def _tokens(path, text: str):
    """(value, line, kind) for each token; kind is "bare", "quoted" or "text"."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        no = i + 1
        if line.startswith(";"):  # a text field runs to a line that starts with ;
            body = [line[1:]]
            i += 1
            while i < len(lines) and not lines[i].startswith(";"):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise PatternFormatError(
                    path,
                    f"the text field opened at line {no} is never closed by a "
                    "line starting with ';': the file is truncated",
                    line=no,
                )
            yield "\n".join(body), no, "text"
            # the closing ; may be followed by more tokens on its line
            line, no = lines[i][1:], i + 1
        i += 1
        if "'" not in line and '"' not in line and "#" not in line:
            for tok in line.split():  # the fast path of data rows
                yield tok, no, "bare"
            continue
        for m in _TOKEN.finditer(line):
            tok = m.group()
            if tok.startswith("#"):
                break
            if tok[0] in "'\"":
                if len(tok) < 2 or tok[-1] != tok[0]:
                    raise PatternFormatError(
                        path,
                        f"the quoted string {tok[:40]!r} is not closed on its line",
                        line=no,
                    )
                yield tok[1:-1], no, "quoted"
            else:
                yield tok, no, "bare"


def _reserved(tok: str) -> bool:
    low = tok[:7].lower()
    return low.startswith(("data_", "save_")) or low in ("loop_", "global_")


def _parse(path, text: str) -> list[_Block]:
    blocks: list[_Block] = []
    block: _Block | None = None
    loop: _Loop | None = None
    pending: tuple[str, int] | None = None  # a tag waiting for its value
    for tok, no, kind in _tokens(path, text):
        if loop is not None and loop.tags and (kind != "bare" or tok[0] != "_"):
            # a loop value, the bulk of a file (a reserved word ends the loop)
            if kind != "bare" or tok[0] not in "dDlLsSgG" or not _reserved(tok):
                loop.values.append((tok, no, kind != "bare"))
                continue
        low = tok.lower() if kind == "bare" else ""
        if kind == "bare" and _reserved(tok):
            if pending is not None:
                raise PatternFormatError(
                    path, f"{pending[0]} has no value before {tok!r}", line=pending[1]
                )
            if loop is not None:
                _close_loop(path, loop)
                loop = None
            if low.startswith("data_"):
                block = _Block(tok[5:], no)
                blocks.append(block)
            elif low == "loop_":
                if block is None:
                    raise PatternFormatError(path, "loop_ before any data_", line=no)
                loop = _Loop(no)
                block.loops.append(loop)
            continue  # save frames (dictionaries) and global_ hold no data here
        if kind == "bare" and tok.startswith("_"):
            if block is None:
                raise PatternFormatError(path, f"{tok} before any data_ block", line=no)
            if pending is not None:
                raise PatternFormatError(
                    path, f"{pending[0]} has no value before {tok}", line=pending[1]
                )
            if loop is not None and loop.values:
                _close_loop(path, loop)
                loop = None
            if loop is not None:
                loop.tags.append(_norm(tok))
            else:
                pending = (_norm(tok), no)
            continue
        if loop is not None:
            if not loop.tags:
                raise PatternFormatError(path, "loop_ without tags", line=loop.line)
            loop.values.append((tok, no, kind != "bare"))
        elif pending is not None:
            block.items[pending[0]] = (tok, no, kind != "bare")
            pending = None
        elif block is None:
            raise PatternFormatError(
                path, f"{tok[:40]!r} before any data_ block", line=no
            )
        else:
            raise PatternFormatError(
                path, f"the value {tok[:40]!r} belongs to no tag", line=no
            )
    if pending is not None:
        raise PatternFormatError(
            path,
            f"{pending[0]} has no value: the file is truncated",
            line=pending[1],
        )
    if loop is not None:
        _close_loop(path, loop)
    return blocks


def _close_loop(path, loop: _Loop) -> None:
    if not loop.tags:
        raise PatternFormatError(path, "loop_ without tags", line=loop.line)
    n = len(loop.tags)
    if len(loop.values) % n:
        last = loop.values[-1][1] if loop.values else loop.line
        raise PatternFormatError(
            path,
            f"the loop of {n} tags opened at line {loop.line} ends inside a row "
            f"({len(loop.values) % n} of {n} values): the file is truncated or "
            "a value is missing",
            line=last,
        )


def _number(path, value, tag, decimal_comma=False):
    """(value, s.u. or None) of a CIF number such as ``1234(35)`` or
    ``1.5e3(2)``; the s.u. counts in the last digit of the mantissa.

    With ``decimal_comma`` (a wavelength, as other readers' headers) one
    number written with a decimal comma (``1,5406``, ``1,5406(2)``) is read
    as that decimal; CIF has no such number, and data columns keep
    refusing it."""
    text, no, quoted = value
    if decimal_comma and not quoted and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    m = None if quoted else _NUMBER.fullmatch(text)
    if m is None:
        what = "a missing value" if text in _MISSING and not quoted else "not a number"
        raise PatternFormatError(path, f"{tag}: {text[:40]!r} is {what}", line=no)
    mantissa, frac, frac_only, exp, su = m.groups()
    # float() of the text, not 10.0 ** int(exp): a huge exponent is inf, no error
    scale = float(f"1e{exp}") if exp else 1.0
    v = float(mantissa + (f"e{exp}" if exp else ""))
    sigma = None
    if su is not None:
        decimals = len(frac or frac_only or "")
        sigma = float(su) * float(f"1e-{decimals}") * scale
    if not math.isfinite(v) or (sigma is not None and not math.isfinite(sigma)):
        raise PatternFormatError(
            path, f"{tag}: {text[:40]!r} is not a finite number", line=no
        )
    return v, sigma


def _column(path, loop: _Loop, tag):
    values = loop.column(tag)
    pairs = [_number(path, v, tag) for v in values]
    x = np.array([p[0] for p in pairs], dtype=float)
    su = [p[1] for p in pairs]
    lines = np.array([v[1] for v in values])
    return x, su, lines


def _item_number(path, block: _Block, tag, decimal_comma=False):
    if tag not in block.items:
        return None
    value = block.items[tag]
    if value[0] in _MISSING and not value[2]:
        return None
    return _number(path, value, tag, decimal_comma)[0]


def _has_powder_data(block: _Block) -> bool:
    return any(t in _INTENSITY_TAGS for loop in block.loops for t in loop.tags)


def read_pdcif(path, data: bytes, axis, block=None) -> _Found:
    """A :class:`_Found` from the data block of a pdCIF file that holds a
    powder pattern: the only one, or the one ``block`` names (its name, or
    its index among the pattern blocks; see :func:`skxrd.io.read_pattern`)."""
    text = _decode(data, ("utf-8",))
    _refuse_cut(path, text, separators=" \t", su=True)
    blocks = _parse(path, text)
    if not blocks:
        raise PatternFormatError(path, "no data_ block: not a CIF", line=1)
    powder = [b for b in blocks if _has_powder_data(b)]
    if not powder:
        if any(t in b.tags() for b in blocks for t in _STRUCTURE_TAGS):
            raise PatternFormatError(
                path,
                "a CIF of a crystal structure, without powder data (no loop of "
                "_pd_meas_counts_total, _pd_meas_intensity_total or "
                "_pd_proc_intensity_total); read structures with "
                "skxrd.crystal.Crystal.from_cif",
                line=blocks[0].line,
            )
        raise PatternFormatError(
            path,
            "a CIF without powder data (no loop of _pd_meas_counts_total, "
            "_pd_meas_intensity_total, _pd_proc_intensity_total...)",
            line=blocks[0].line,
        )
    block = _choose_block(path, powder, block)
    meta: dict[str, Any] = {"cif_block": block.name}
    if len(blocks) > 1:
        meta["cif_blocks"] = [b.name for b in blocks]

    tag, loop = next(
        (t, lp) for t in _INTENSITY_TAGS for lp in block.loops if t in lp.tags
    )
    meta["cif_intensity"] = tag
    unit = _intensity_unit(block, tag)
    if unit is not None:
        meta["intensity_unit"] = unit
    if tag == "_pd_calc_intensity_total":
        meta["calculated"] = True  # a model's pattern, the block measures none
    y, su, lines = _column(path, loop, tag)
    sigma = _uncertainty(path, loop, tag, su, meta)

    x = _two_theta(path, block, loop, tag, len(y), meta)
    if x is None:
        _no_two_theta(path, block, loop)
    n_stated = _item_number(
        path,
        block,
        "_pd_meas_number_of_points"
        if tag.startswith("_pd_meas")
        else "_pd_proc_number_of_points",
    )
    if n_stated is not None and n_stated != len(y):
        raise PatternFormatError(
            path,
            f"the block states {n_stated:g} points but its loop holds {len(y)}: "
            "the file is truncated or damaged",
            line=int(lines[-1]) if len(lines) else loop.line,
        )
    x, (y, sigma), reversed_ = _ordered(
        path, x, [y, sigma], lambda i: {"line": int(lines[i])}
    )
    if reversed_:
        meta["reversed"] = True
    bad = np.flatnonzero((x < 0) | (x > 180))
    if bad.size:
        raise PatternFormatError(
            path, f"2θ = {x[bad[0]]:g} is outside [0, 180] degrees", line=loop.line
        )
    radiation, lam, lam_error = _wavelength(path, block, blocks, meta)
    for key, name in (
        ("_diffrn_radiation_type", "radiation_type"),
        ("_diffrn_radiation_probe", "probe"),
        ("_pd_block_id", "pd_block_id"),
        ("_pd_spec_description", "sample_description"),
        ("_pd_meas_step_count_time", "counting_time_s"),
    ):
        if key in block.items and block.items[key][0] not in _MISSING:
            value = block.items[key][0].strip()
            meta[name] = _float_or_text(value) if name == "counting_time_s" else value
    return _Found(
        "pdcif",
        x,
        y,
        uncertainty=sigma,
        wavelength=lam,
        radiation=radiation,
        metadata=meta,
        wavelength_error=lam_error,
    )


def _intensity_unit(block: _Block, tag):
    """``"counts"`` or ``"cps"`` where the block says what its intensities
    are, else None: ``_pd_meas_counts_*`` are counts by definition;
    ``_pd_meas_intensity_*`` are in the unit ``_pd_meas_units_of_intensity``
    names (when it names counts or counts per second); processed and
    calculated intensities are on the refinement's scale."""
    if tag.startswith("_pd_meas_counts"):
        return "counts"
    if not tag.startswith("_pd_meas_intensity"):
        return None
    stated = block.items.get("_pd_meas_units_of_intensity")
    if stated is None or stated[0] in _MISSING:
        return None
    words = re.sub(r"[^a-z]+", " ", stated[0].lower()).split()
    if words in (["counts"], ["count"]):
        return "counts"
    if words in (["cps"], ["counts", "per", "second"], ["counts", "s"]):
        return "cps"
    return None


def _choose_block(path, powder: list[_Block], block) -> _Block:
    """The pattern block to read: the only one, or the one ``block`` names
    (a name, with or without ``data_``, matched as CIF matches names:
    ignoring case; or an index among the pattern blocks, from 0)."""
    listed = ", ".join(f"{b.name!r} (line {b.line})" for b in powder)
    how = (
        f"pass block= to read_pattern (--block to skxrd predict, watch and "
        f"evaluate) with a name ({listed}) or an index from 0 to "
        f"{len(powder) - 1}"
    )
    if block is None:
        if len(powder) == 1:
            return powder[0]
        raise PatternFormatError(
            path,
            f"{len(powder)} data blocks hold powder patterns; {how} to choose one",
            line=powder[1].line,
        )
    if isinstance(block, str):
        wanted = block.lower().removeprefix("data_")
        found = [b for b in powder if b.name.lower() == wanted]
        if found:
            return found[0]
        raise PatternFormatError(
            path, f"block={block!r}: no pattern block of that name; {how}"
        )
    if not 0 <= block < len(powder):
        raise PatternFormatError(
            path,
            f"block={block}: the file holds {len(powder)} pattern block(s); {how}",
        )
    return powder[block]


def _float_or_text(value):
    """A stated number as a float (its s.u. dropped; ``0,5`` a decimal comma),
    other text as it is."""
    m = _NUMBER.fullmatch(
        value.replace(",", ".") if _DECIMAL_COMMA.fullmatch(value) else value
    )
    if m is None:
        return value
    v = float(m.group(1) + (f"e{m.group(4)}" if m.group(4) else ""))
    return v if math.isfinite(v) else value


def _uncertainty(path, loop: _Loop, tag, su, meta):
    """σ of the intensities: their s.u. in parentheses, else an ``_su``
    column, else 1/√w of ``_pd_proc_ls_weight`` when every weight is
    positive (a zero weight marks a point the refinement left out)."""
    stated = sum(s is not None for s in su)
    if stated == len(su):
        meta["uncertainty_from"] = "s.u. in parentheses"
        return np.array(su, dtype=float)
    if stated:
        meta["uncertainty_from"] = (
            f"none: only {stated} of {len(su)} intensities state an s.u."
        )
        return None
    if tag + "_su" in loop.tags:
        sigma, _, lines = _column(path, loop, tag + "_su")
        bad = np.flatnonzero(sigma < 0)
        if bad.size:
            raise PatternFormatError(
                path, f"{tag}_su: a negative uncertainty", line=int(lines[bad[0]])
            )
        meta["uncertainty_from"] = f"{tag}_su"
        return sigma
    if "_pd_proc_ls_weight" in loop.tags:
        w, _, lines = _column(path, loop, "_pd_proc_ls_weight")
        bad = np.flatnonzero(w < 0)
        if bad.size:
            raise PatternFormatError(
                path, "_pd_proc_ls_weight: a negative weight", line=int(lines[bad[0]])
            )
        if np.all(w > 0):
            meta["uncertainty_from"] = "_pd_proc_ls_weight"
            meta["uncertainty_converted"] = "σ = 1/√w from weights w = 1/σ²"
            return 1.0 / np.sqrt(w)
        meta["uncertainty_from"] = (
            f"none: {int(np.sum(w == 0))} points have weight 0 (left out of the "
            "refinement)"
        )
    return None


def _two_theta(path, block: _Block, loop: _Loop, tag, n, meta):
    """2θ of each point: a column of the intensity's loop (the measured or
    corrected angles, whichever matches the intensity), else the block's
    ``_pd_meas_2theta_range_*`` or ``_pd_proc_2theta_range_*``."""
    measured = tag.startswith("_pd_meas")
    order = _MEAS_X + _PROC_X if measured else _PROC_X + _MEAS_X
    for x_tag in order:
        if x_tag in loop.tags:
            meta["cif_x"] = x_tag
            return _column(path, loop, x_tag)[0]
    prefixes = ("_pd_meas_2theta_range_", "_pd_proc_2theta_range_")
    for prefix in prefixes if measured else prefixes[::-1]:
        lo, hi, inc = (
            _item_number(path, block, prefix + k, decimal_comma=True)
            for k in ("min", "max", "inc")
        )
        if lo is None or hi is None or inc is None:
            continue
        line = block.items[prefix + "inc"][1]
        if inc == 0 or (hi - lo) / inc < 0:
            raise PatternFormatError(
                path, f"{prefix}min/max/inc: {lo:g} to {hi:g} by {inc:g}", line=line
            )
        steps = (hi - lo) / inc
        count = round(steps) + 1
        if abs(steps - round(steps)) > 1e-3 * max(1.0, steps) ** 0.5:
            raise PatternFormatError(
                path,
                f"{prefix}min/max/inc: {lo:g} to {hi:g} is not a whole number of "
                f"steps of {inc:g}",
                line=line,
            )
        if count != n:
            raise PatternFormatError(
                path,
                f"{prefix}min/max/inc give {count} points ({lo:g} to {hi:g} by "
                f"{inc:g}) but the loop of {tag} holds {n}: the file is truncated "
                "or damaged",
                line=loop.values[-1][1] if loop.values else loop.line,
            )
        meta["cif_x"] = prefix + "min/max/inc"
        return lo + inc * np.arange(n)
    return None


def _no_two_theta(path, block: _Block, loop: _Loop):
    other = next((t for t in loop.tags if t in _OTHER_X), None)
    if other is not None:
        raise PatternFormatError(
            path,
            f"the pattern's x is {_OTHER_X[other]} ({other}), not 2θ: not supported",
            line=loop.line,
        )
    raise PatternFormatError(
        path,
        "no 2θ for the intensities: neither a 2θ column (_pd_meas_2theta_scan, "
        "_pd_proc_2theta_corrected) in their loop nor _pd_meas_2theta_range_min/"
        "_max/_inc in the block",
        line=loop.line,
    )


def _wavelength(path, block: _Block, blocks, meta):
    """(radiation, wavelength) from ``_diffrn_radiation_wavelength``: one
    value, or a loop of lines with weights (Kα1 and Kα2 give the doublet);
    taken from another block of the file only when the pattern's block states
    none and the others agree. The third value is the error naming a stated
    wavelength that is none (0, 999 Å), or None."""
    found = _block_wavelengths(path, block)
    if found is None:
        others = [
            (b, w)
            for b in blocks
            if b is not block
            for w in [_block_wavelengths(path, b)]
            if w is not None
        ]
        if not others or any(w[:2] != others[0][1][:2] for _, w in others):
            return None, None, None
        meta["wavelength_block"] = others[0][0].name
        block, found = others[0]
    lines, weights, line = found
    anode = ""
    rtype = block.items.get("_diffrn_radiation_type", ("", 0, False))[0]
    m = re.match(r"\s*([A-Z][a-z]?)\s*K", rtype)
    if m:
        anode = m.group(1)
    probe = block.items.get("_diffrn_radiation_probe", ("", 0, False))[0].lower()
    if len(lines) > 1:
        meta["cif_wavelengths"] = lines
    a1 = lines[0]
    if weights is not None and len(lines) > 1:
        order = sorted(range(len(lines)), key=lambda k: -weights[k])
        meta["cif_wavelengths"] = [lines[k] for k in order]
        meta["cif_wavelength_weights"] = [weights[k] for k in order]
        a1 = lines[order[0]]
    error = _bad_wavelength(path, a1, "_diffrn_radiation_wavelength", line=line)
    if weights is not None and len(lines) == 2:
        if "neutron" not in probe and weights[order[0]] > 0:
            a2 = lines[order[1]]
            ratio = weights[order[1]] / weights[order[0]]
            return (*_radiation_from_lines(a1, a2, ratio, anode), error)
    return (*_radiation_from_lines(a1), error)


def _block_wavelengths(path, block: _Block):
    """(lines, weights or None, line of the first) that ``block`` states in
    ``_diffrn_radiation_wavelength``, or None."""
    for tag in _WAVELENGTH_TAGS:
        v = _item_number(path, block, tag, decimal_comma=True)
        if v is not None:
            return [v], None, block.items[tag][1]
    for loop in block.loops:
        tag = next((t for t in _WAVELENGTH_TAGS if t in loop.tags), None)
        if tag is None:
            continue
        values = [v for v in loop.column(tag) if not (v[0] in _MISSING and not v[2])]
        lines = [_number(path, v, tag, True)[0] for v in values]
        weights = None
        wt = next((t for t in _WEIGHT_TAGS if t in loop.tags), None)
        if wt is not None and len(values) == loop.rows:
            weights = [_number(path, v, wt, True)[0] for v in loop.column(wt)]
        if lines:
            return lines, weights, values[0][1]
    return None
