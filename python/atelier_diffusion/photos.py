"""Image checks and preprocessing for DreamBooth.

`check_instance_images` runs before any model is loaded and reports every unusable photo at once (wrong type,
unreadable, truncated, too small, exact or near duplicate) — a duplicate silently doubles a pose's weight, a tiny
photo gets upscaled into mush, and both are invisible until the samples look wrong hours later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .protocol import DataError, Problem

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
CAPTION_SUFFIXES = (".txt", ".jsonl")
MIN_INSTANCE_IMAGES = 3


#: A subject mask beside a photo: `<stem>.mask.png` (white = subject). Never a photo itself.
MASK_SUFFIX = ".mask.png"


def is_mask_file(path: Path) -> bool:
    """Whether `path` is a mask file rather than a photo."""
    return path.name.lower().endswith(MASK_SUFFIX)


def open_mask(path: Path) -> Image.Image | None:
    """The subject mask of photo `path` as greyscale ("L", upright like the photo): `<stem>.mask.png` beside it, else
    the photo's own alpha channel; None when it has neither."""
    side = path.with_name(path.stem + MASK_SUFFIX)
    source = side if side.is_file() else path
    with Image.open(source) as img:
        img.load()
        upright = ImageOps.exif_transpose(img)
        if source == side:
            return upright.convert("L")
        if upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info):
            return upright.convert("RGBA").getchannel("A")
    return None


def mask_problems(photos: list[Path]) -> list[Problem]:
    """Mask files that cannot be used: unreadable, or not the size of their photo (it would mark the wrong
    pixels). Checked with the photos, before any model loads."""
    out = []
    for path in photos:
        side = path.with_name(path.stem + MASK_SUFFIX)
        if not side.is_file():
            continue
        try:
            mask = open_mask(path)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            out.append(Problem(str(side), f"unreadable mask ({type(err).__name__}: {err})"))
            continue
        size = open_rgb(path).size
        if mask.size != size:
            out.append(Problem(str(side), f"mask is {mask.size[0]}x{mask.size[1]} px, its photo {size[0]}x{size[1]}"))
    return out


def list_images(folder: Path) -> list[Path]:
    """Image files (by suffix) directly inside `folder`, sorted by name so order never depends on the filesystem."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not is_mask_file(p))


def open_rgb(path: Path) -> Image.Image:
    """Opens an image fully decoded, upright (EXIF orientation applied) and in RGB."""
    with Image.open(path) as img:
        img.load()
        upright = ImageOps.exif_transpose(img)
        return upright.convert("RGB")


_DCT_N = 32
_DCT = np.cos(np.pi * (2 * np.arange(_DCT_N)[None, :] + 1) * np.arange(_DCT_N)[:, None] / (2 * _DCT_N))


def phash(img: Image.Image) -> int:
    """63-bit perceptual hash: signs (vs the median) of the lowest 8×8 DCT frequencies of a 32×32 greyscale
    thumbnail, DC excluded. Low frequencies survive rescaling and re-encoding — what near-duplicate photos differ
    by — while distinct photos land ~20+ bits apart (a difference hash flips bits in flat regions instead)."""
    grey = np.asarray(img.convert("L").resize((_DCT_N, _DCT_N), Image.Resampling.BOX), dtype=np.float64)
    low = (_DCT @ grey @ _DCT.T)[:8, :8].flatten()[1:]
    return int("".join("1" if b else "0" for b in low > np.median(low)), 2)


@dataclass
class _Seen:
    path: Path
    digest: str
    phash: int


def _inspect(path: Path, min_size: int) -> tuple[Image.Image | None, str | None]:
    """Decodes one photo; returns (image, None) or (None, why it cannot be used)."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, f"unsupported file type {path.suffix or '(none)'}: use jpg, png or webp"
    try:
        with Image.open(path) as probe:
            probe.verify()  # structure/CRC check; load() below catches truncated pixel data
        img = open_rgb(path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        return None, f"unreadable or corrupt image ({type(err).__name__}: {err})"
    if min(img.size) < min_size:
        return None, f"too small: {img.size[0]}x{img.size[1]} px, need at least {min_size} px on the short side"
    return img, None


def check_instance_images(folder: str | Path, min_size: int, duplicate_distance: int | None = 10,
                          captions: bool = False) -> list[Path]:
    """Validates the subject photos; returns the usable files (sorted) or raises DataError listing each bad file.

    Files starting with "." are ignored (editor/OS droppings), and caption files when `captions` is on; every other
    file must be a usable photo, distinct from the others unless `duplicate_distance` is None.
    """
    folder = Path(folder)
    problems: list[Problem] = []
    seen: list[_Seen] = []
    skip = CAPTION_SUFFIXES if captions else ()
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in skip
                   and not is_mask_file(p))
    for path in files:
        img, why = _inspect(path, min_size)
        if why:
            problems.append(Problem(str(path), why))
            continue
        if duplicate_distance is None:
            seen.append(_Seen(path, "", 0))
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        hashed = phash(img)
        twin = next((s for s in seen if s.digest == digest), None)
        if twin:
            problems.append(Problem(str(path), f"exact duplicate of {twin.path.name}"))
            continue
        near = [(bin(s.phash ^ hashed).count("1"), s) for s in seen]
        close = min(near, key=lambda t: t[0], default=None)
        if close and close[0] <= duplicate_distance:
            problems.append(Problem(str(path), f"near-duplicate of {close[1].path.name} "
                                               f"(perceptual distance {close[0]} ≤ {duplicate_distance})"))
            continue
        seen.append(_Seen(path, digest, hashed))
    if len(seen) < MIN_INSTANCE_IMAGES:
        problems.append(Problem(str(folder), f"{len(seen)} usable image(s); DreamBooth needs at least "
                                             f"{MIN_INSTANCE_IMAGES} distinct photos of the subject"))
    if problems:
        raise DataError(f"instance images in {folder} cannot be used ({len(problems)} problem(s))", problems)
    return [s.path for s in seen]


def read_captions(folder: str | Path, paths: list[Path]) -> list[str]:
    """The caption of each image, from `folder/metadata.jsonl` (imagefolder: {"file_name", "text"} per line) or else
    from a `.txt` beside each image. Raises DataError listing every image without a caption."""
    folder = Path(folder)
    meta = folder / "metadata.jsonl"
    table: dict[str, str] = {}
    if meta.is_file():
        for n, line in enumerate(meta.read_text().splitlines(), 1):
            try:
                row = json.loads(line) if line.strip() else None
            except json.JSONDecodeError as err:
                raise DataError("metadata.jsonl is not JSON lines", [Problem(f"{meta}:{n}", str(err))]) from None
            if isinstance(row, dict) and isinstance(row.get("file_name"), str):
                table[row["file_name"]] = str(row.get("text", ""))
    else:
        table = {p.name: p.with_suffix(".txt").read_text().strip() for p in paths if p.with_suffix(".txt").is_file()}
    missing = [Problem(str(p), "no caption (metadata.jsonl entry or .txt file)") for p in paths if p.name not in table]
    if missing:
        raise DataError(f"captions missing in {folder} ({len(missing)} image(s))", missing)
    return [table[p.name] for p in paths]


def preprocess(img: Image.Image, resolution: int, crop: str, flip: bool, rng: np.random.Generator) -> torch.Tensor:
    """Resizes the short side to `resolution`, crops a square (center or at an `rng` offset), optionally mirrors,
    and returns a CHW float tensor in [-1, 1] (the VAE's input range)."""
    return preprocess_with_coords(img, (resolution, resolution), crop, flip, rng)[0]


def fit_geometry(original: tuple[int, int], target: tuple[int, int], crop: str, flip: bool,
                 rng: np.random.Generator) -> tuple[tuple[int, int], int, int, tuple[int, int, int, int, int, int]]:
    """Where preprocess_with_coords resizes and crops, without touching pixels: (resized (w, h), crop left, crop
    top, SDXL size conditioning). Draws from `rng` only for a random crop."""
    (w, h), (tw, th) = original, target
    scale = max(tw / w, th / h)
    size = (max(tw, round(w * scale)), max(th, round(h * scale)))
    if crop == "random":
        left = int(rng.integers(0, size[0] - tw + 1))
        top = int(rng.integers(0, size[1] - th + 1))
    else:
        left, top = (size[0] - tw) // 2, (size[1] - th) // 2
    return size, left, top, (h, w, top, size[0] - left - tw if flip else left, th, tw)


def mask_tensor(mask: Image.Image, target: tuple[int, int], size: tuple[int, int], left: int, top: int,
                flip: bool) -> torch.Tensor:
    """`mask` resized to `size`, cropped at (left, top) to `target` and mirrored — what fit_geometry did to its
    photo — as a (1, H, W) tensor in [0, 1]."""
    tw, th = target
    mask = mask.resize(size, Image.Resampling.BILINEAR).crop((left, top, left + tw, top + th))
    if flip:
        mask = mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return torch.from_numpy(np.asarray(mask, dtype=np.float32) / 255.0)[None]


def preprocess_with_coords(img: Image.Image, target: tuple[int, int], crop: str, flip: bool,
                           rng: np.random.Generator) -> tuple[torch.Tensor, tuple[int, int, int, int, int, int]]:
    """Scales `img` to cover `target` (width, height), crops it to that size (center or at an `rng` offset),
    optionally mirrors, and returns a CHW tensor in [-1, 1] plus SDXL's size conditioning of the example:
    (original height, original width, crop top, crop left, target height, target width) in pixels — the crop's
    corner as seen in the mirrored image when flipped, as diffusers' SDXL trainer (which flips before cropping)
    records it."""
    geometry = fit_geometry(img.size, target, crop, flip, rng)
    return apply_geometry(img, target, geometry, flip), geometry[3]


def apply_geometry(img: Image.Image, target: tuple[int, int], geometry: tuple, flip: bool) -> torch.Tensor:
    """The pixels of `img` placed by fit_geometry: resized, cropped to `target`, mirrored; CHW in [-1, 1]."""
    size, left, top, _coords = geometry
    tw, th = target
    img = img.resize(size, Image.Resampling.BICUBIC).crop((left, top, left + tw, top + th))
    if flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    arr = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()
