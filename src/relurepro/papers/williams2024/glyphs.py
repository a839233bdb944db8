"""Procedurally rendered 10-class glyph tasks (spec §3): stand-ins for the paper's seven image tasks.

Each class is one code point of a script, drawn by Pillow in the DejaVu faces that matplotlib ships
(``mpl-data/fonts/ttf``; the ``*Display`` faces are skipped, Condensed is emulated by a 0.85 x-scale),
then distorted by a seeded augmentation (affine, elastic, dilate/erode, blur, noise), centred by its
centre of mass into 28x28 px with values in [0, 1]. Train and test images come from disjoint seed
streams. The tofu check is authoritative: a (face, code point) that draws nothing or the same bitmap
as an unassigned code point is dropped for that class; a class with no face left is an error.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np

SCRIPTS: dict[str, list[int]] = {
    "latin": list(range(0x30, 0x3A)),
    "arabic_indic": list(range(0x660, 0x66A)),
    "persian": list(range(0x6F0, 0x6FA)),
    "nko": list(range(0x7C0, 0x7CA)),
    "greek": [ord(c) for c in "ΑΒΓΔΕΖΗΘΙΚ"],
    "cyrillic": [ord(c) for c in "БГДЖЗИЛПФЦ"],
    "hebrew": [ord(c) for c in "אבגדהוזחטי"],
    "roman": list(range(0x2160, 0x216A)),
    "circled": [0x2460 + i for i in range(9)] + [0x2776],
}
# Scripts drawn with stronger distortions (a KMNIST-like difficulty gap, spec §3).
HARD_SCRIPTS = ("greek", "cyrillic", "hebrew")
UNASSIGNED = 0x0378  # unassigned in every Unicode version: fonts draw their .notdef box (tofu)
SIDE = 28
CANVAS = 48
CONDENSED = 0.85


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def faces() -> list[Path]:
    """The DejaVu TTF faces bundled with matplotlib, sorted, without the ``*Display`` faces."""
    found = sorted(p for p in font_dir().glob("DejaVu*.ttf") if "Display" not in p.name)
    if not found:
        raise FileNotFoundError(f"no DejaVu fonts in {font_dir()} (matplotlib's bundled fonts)")
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@cache
def _font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def draw(face: Path, code: int, size: int = 32, canvas: int = CANVAS) -> np.ndarray:
    """One glyph drawn in white on black, centred on a ``canvas`` square, float in [0, 1]."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (canvas, canvas), 0)
    pen = ImageDraw.Draw(img)
    font = _font(str(face), int(size))
    ch = chr(code)
    left, top, right, bottom = pen.textbbox((0, 0), ch, font=font)
    pen.text(((canvas - (right - left)) / 2 - left, (canvas - (bottom - top)) / 2 - top), ch, fill=255, font=font)
    return np.asarray(img, dtype=np.float64) / 255.0


def renders(face: Path, code: int) -> bool:
    """The tofu check: ``face`` draws ``code`` as a non-empty bitmap unlike an unassigned code point's."""
    glyph = draw(face, code)
    return bool(glyph.sum() > 0) and not np.array_equal(glyph, draw(face, UNASSIGNED))


@cache
def class_faces(script: str) -> tuple[tuple[Path, ...], ...]:
    """Per class of ``script``, the faces that pass the tofu check (a class with none is an error)."""
    if script not in SCRIPTS:
        raise ValueError(f"unknown glyph script {script!r}; expected one of {sorted(SCRIPTS)}")
    out = []
    for code in SCRIPTS[script]:
        ok = tuple(f for f in faces() if renders(f, code))
        if not ok:
            raise ValueError(f"glyph script {script}: no DejaVu face draws U+{code:04X} (tofu in every face)")
        out.append(ok)
    return tuple(out)


def _affine(img: np.ndarray, rng: np.random.Generator, strength: float, xscale: float) -> np.ndarray:
    """Rotation, shear, scale (and Condensed x-scale) about the canvas centre, bilinear."""
    from scipy.ndimage import affine_transform

    angle = np.deg2rad(rng.uniform(-15, 15) * strength)
    shear = rng.uniform(-0.3, 0.3) * strength
    scale = rng.uniform(0.8, 1.1)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    forward = rot @ np.array([[1.0, 0.0], [shear, 1.0]]) @ np.diag([scale, scale * xscale])  # (row, col)
    inverse = np.linalg.inv(forward)
    centre = (np.array(img.shape) - 1) / 2
    return affine_transform(img, inverse, offset=centre - inverse @ centre, order=1)


def _elastic(img: np.ndarray, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter, map_coordinates

    dy = gaussian_filter(rng.uniform(-1, 1, img.shape), sigma) * alpha
    dx = gaussian_filter(rng.uniform(-1, 1, img.shape), sigma) * alpha
    rows, cols = np.meshgrid(np.arange(img.shape[0]), np.arange(img.shape[1]), indexing="ij")
    return map_coordinates(img, [rows + dy, cols + dx], order=1)


def _centre_crop(img: np.ndarray, shift: np.ndarray, side: int = SIDE) -> np.ndarray:
    """A ``side`` square around the centre of mass (moved by ``shift`` px), zero-padded."""
    total = img.sum()
    rows, cols = np.indices(img.shape)
    cy, cx = ((rows * img).sum() / total, (cols * img).sum() / total) if total > 0 else np.array(img.shape) / 2
    top, left = int(round(cy - side / 2 - shift[0])), int(round(cx - side / 2 - shift[1]))
    pad = side
    big = np.pad(img, pad)
    return big[top + pad : top + pad + side, left + pad : left + pad + side]


def render(face: Path, code: int, rng: np.random.Generator, hard: bool) -> np.ndarray:
    """One augmented 28x28 sample of a glyph (spec §3's augmentation, stronger when ``hard``)."""
    from scipy.ndimage import gaussian_filter, grey_dilation, grey_erosion

    strength = 1.5 if hard else 1.0
    xscale = CONDENSED if rng.random() < 0.25 else 1.0
    img = draw(face, code, size=int(rng.integers(18, 25)))
    img = _affine(img, rng, strength, xscale)
    img = _elastic(img, rng, alpha=8.0 * strength, sigma=3.0)
    morph = rng.integers(3)
    if morph == 1:
        img = grey_dilation(img, size=(2, 2))
    elif morph == 2:
        img = grey_erosion(img, size=(2, 2)) if img.max() > 0 else img
    img = gaussian_filter(img, rng.uniform(0, 0.8))
    img = _centre_crop(img, rng.uniform(-2, 2, 2))
    img = img + rng.normal(0, 0.05, img.shape)
    return np.clip(img, 0.0, 1.0)


def glyph_images(script: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` augmented images (balanced classes, ``[n, 784]``) and labels of ``script`` from ``seed``."""
    per_class = class_faces(script)
    codes = SCRIPTS[script]
    hard = script in HARD_SCRIPTS
    labels = np.arange(n) % len(codes)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x676C79]))
    x = np.empty((n, SIDE * SIDE))
    for i, k in enumerate(labels):
        ok = per_class[k]
        x[i] = render(ok[int(rng.integers(len(ok)))], codes[k], rng, hard).reshape(-1)
    return x, labels.astype(np.int64)


def glyph_task(script: str, n_train: int, n_test: int, seed: int, side: int = SIDE) -> dict[str, np.ndarray]:
    """A glyph task: train images from stream ``2 seed``, test from ``2 seed + 1`` (disjoint), at ``side`` px.

    ``side`` 14 average-pools the 28x28 renders by 2x2. ``fonts`` lists each face used with its SHA-256.
    """
    from ...data import pool2x2

    if side not in (SIDE, SIDE // 2):
        raise ValueError(f"glyph side must be {SIDE} or {SIDE // 2}, got {side}")
    x_tr, y_tr = glyph_images(script, n_train, 2 * seed)
    x_te, y_te = glyph_images(script, n_test, 2 * seed + 1)
    if side != SIDE:
        x_tr, x_te = pool2x2(x_tr, SIDE), pool2x2(x_te, SIDE)
    used = sorted({f for ok in class_faces(script) for f in ok})
    fonts = np.array([f"{f.name}:{sha256(f)}" for f in used])
    return {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te, "fonts": fonts}
