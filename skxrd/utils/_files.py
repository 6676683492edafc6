"""Writing the user's files: nothing that exists is replaced unless asked, and
a replacement never leaves a half-written file behind."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def check_new_file(
    path,
    overwrite,
    *,
    name: str | None = None,
    replace_hint: str = "pass overwrite=True to replace it",
    make_folders: bool = False,
) -> Path:
    """``path`` as a :class:`~pathlib.Path` that may be written, or one clear
    error naming it.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    overwrite : bool
        Whether an existing file may be replaced.
    name : str, optional
        What the caller calls the path (``"-o"`` for the command line), put
        before it in the messages.
    replace_hint : str, default="pass overwrite=True to replace it"
        How the caller's user replaces an existing file (``"use --force to
        replace it"`` for the command line).
    make_folders : bool, default=False
        Whether the caller makes missing folders (the command line does): then
        only a file where a folder should be is refused.

    Raises
    ------
    TypeError
        If ``path`` is not a str or path-like, or ``overwrite`` not a bool (a
        truthy string such as ``"no"`` must not replace the user's file).
    IsADirectoryError
        If ``path`` is a folder.
    FileNotFoundError
        If its folder does not exist (unless ``make_folders``) or is a file.
    FileExistsError
        If it exists and ``overwrite`` is False, or is a broken symbolic link
        (which mode ``"x"`` refuses with a bare "File exists").

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_new_file(folder / "new.txt", overwrite=False).name
    'new.txt'
    >>> check_new_file(folder / "missing" / "new.txt", overwrite=False)
    Traceback (most recent call last):
    ...
    FileNotFoundError: cannot write ...: the folder ... does not exist
    """
    import numpy as np

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a str or path-like naming a file, got {type(path).__name__}"
        )
    if not isinstance(overwrite, (bool, np.bool_)):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    path = Path(path)
    label = f"{name} {path}" if name else str(path)
    if path.is_dir():
        raise IsADirectoryError(f"{label} is a folder; give the name of a file in it")
    if make_folders:
        for parent in path.parents:  # the nearest one that exists
            if parent.exists():
                if not parent.is_dir():
                    raise FileNotFoundError(
                        f"cannot write {label}: {parent} is a file, not a folder"
                    )
                break
    elif not path.parent.is_dir():
        folder = path.parent
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"cannot write {label}: the folder {folder} {what}")
    if path.is_symlink() and not path.exists():
        raise FileExistsError(
            f"{label} is a broken symbolic link (to {os.readlink(path)}); remove it "
            "or write elsewhere"
        )
    if path.exists() and not overwrite:
        raise FileExistsError(f"{label} exists; {replace_hint}")
    return path


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to a path that
    :func:`check_new_file` accepted.

    A new file is opened in mode ``"x"``: it fails rather than clobbers a file
    that appeared meanwhile. An existing one (``overwrite=True``) is replaced
    by a file written next to it and moved over it, keeping its permissions,
    so that a failure leaves the old file whole.
    """
    if not path.exists():
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", text=True)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
