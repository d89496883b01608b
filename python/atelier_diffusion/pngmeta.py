"""Generation parameters in a PNG's `parameters` text chunk, in the format AUTOMATIC1111's web UI writes.

A1111's "PNG Info" tab, ComfyUI's A1111-metadata loaders, Civitai and most image viewers parse this text:

    a photo of sks dog on the moon
    Negative prompt: blurry, low quality
    Steps: 30, Sampler: Euler a, CFG scale: 7.5, Seed: 1, Size: 512x512, Model hash: 0123456789, Model: my-dog

The first lines are the prompt; an optional `Negative prompt:` line follows; the last line holds `key: value`
pairs separated by ", ". A value containing a comma, colon or quote is written as a JSON string, as A1111 does.
The chunk is tEXt (Latin-1) when the text allows and iTXt (UTF-8) otherwise — Pillow's `add_text` picks.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

from PIL import Image
from PIL.PngImagePlugin import PngInfo

PARAMETERS_KEY = "parameters"


@dataclass(frozen=True)
class ImageInfo:
    """What is recorded about one generated image. `model_hash` is A1111's short hash (10 hex digits) or None."""

    prompt: str
    negative_prompt: str
    steps: int
    sampler: str
    guidance_scale: float
    seed: int
    width: int
    height: int
    model: str
    model_hash: str | None = None


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if re.search(r'[,:"\n]', value) else value


def _number(value: float) -> str:
    # A1111 writes "CFG scale: 7" for a whole number and "7.5" otherwise.
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_parameters(info: ImageInfo) -> str:
    """The `parameters` text for one image."""
    pairs = [("Steps", str(info.steps)), ("Sampler", info.sampler), ("CFG scale", _number(info.guidance_scale)),
             ("Seed", str(info.seed)), ("Size", f"{info.width}x{info.height}")]
    if info.model_hash:
        pairs.append(("Model hash", info.model_hash))
    pairs.append(("Model", info.model))
    lines = [info.prompt]
    if info.negative_prompt:
        lines.append(f"Negative prompt: {info.negative_prompt}")
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in pairs))
    return "\n".join(lines)


_PAIR = re.compile(r'\s*([\w ][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_parameters(text: str) -> dict[str, str]:
    """Parses `parameters` text back into {"prompt", "negative_prompt", <key>: value}; the inverse of
    format_parameters for anything it writes (used by tests and by importers reading A1111 images)."""
    *head, last = text.split("\n")
    if not _PAIR.match(last) or "Steps:" not in last:
        head, last = head + [last], ""
    prompt, negative = [], []
    target = prompt
    for line in head:
        if line.startswith("Negative prompt:"):
            target = negative
            line = line[len("Negative prompt:"):].strip()
        target.append(line)
    out = {"prompt": "\n".join(prompt), "negative_prompt": "\n".join(negative)}
    for m in _PAIR.finditer(last):
        if m[1].strip():
            value = m[2].strip()
            out[m[1].strip()] = json.loads(value) if value.startswith('"') else value
    return out


def encode_png(pixels, info: ImageInfo) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 array with the `parameters` chunk."""
    meta = PngInfo()
    meta.add_text(PARAMETERS_KEY, format_parameters(info))
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", pnginfo=meta)
    return buf.getvalue()


def read_parameters(png: bytes) -> str | None:
    """The `parameters` text of PNG bytes, or None when it has none."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.text.get(PARAMETERS_KEY)
