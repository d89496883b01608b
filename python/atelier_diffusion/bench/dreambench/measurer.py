"""The measurer: a small CNN with one head per attribute, trained on drawn scenes, that turns images into labels.

Every DreamBench-mini metric is computed from what the measurer sees in a generated image, so the measurer is only
trusted when its accuracy on held-out drawn scenes is at least :data:`TRUST_THRESHOLD` for every attribute; the
benchmark refuses to report metrics through an untrusted one. Trained once per config and cached by its hash.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .cache import entry
from .dataset import generate, stack
from .vocab import ATTRIBUTES, VALUES, label_index

#: Lowest held-out accuracy, per attribute, at which measurements are trusted.
TRUST_THRESHOLD = 0.95
#: Bumped when drawing or training code changes what a config produces (invalidates cached measurers).
CODE_VERSION = 1


@dataclass(frozen=True)
class MeasurerConfig:
    """How the measurer is trained. Defaults are the benchmark's (≈ 3 minutes on 2 CPU cores)."""

    size: int = 32            # image side in pixels
    train_count: int = 8000   # drawn training scenes
    heldout_count: int = 1000  # drawn held-out scenes for the accuracy report
    epochs: int = 6
    batch_size: int = 64
    lr: float = 2e-3
    width: int = 32           # channels of the first stage (doubles per stage)
    seed: int = 0


class AttributeNet(nn.Module):
    """Three conv stages (full, ½, ¼ resolution) then global mean+max pooling into one linear head per attribute.

    Global pooling makes the prediction independent of where the object sits; mean pooling carries the background
    (it covers most pixels), max pooling carries small local evidence (a few dots).
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        chans = [3, width, 2 * width, 4 * width]
        layers: list[nn.Module] = []
        for i in range(3):
            layers += [nn.Conv2d(chans[i], chans[i + 1], 3, padding=1), nn.BatchNorm2d(chans[i + 1]), nn.ReLU(),
                       nn.Conv2d(chans[i + 1], chans[i + 1], 3, padding=1), nn.BatchNorm2d(chans[i + 1]), nn.ReLU()]
            if i < 2:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.heads = nn.ModuleDict({a: nn.Linear(8 * width, len(VALUES[a])) for a in ATTRIBUTES})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute for images ``x`` (N, 3, H, W) scaled to [-1, 1]."""
        h = self.features(x)
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return {a: head(pooled) for a, head in self.heads.items()}


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) → float32 (N, 3, H, W) in [-1, 1], the range the diffusion model's images use too."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def _label_tensor(labels: dict[str, list[str]]) -> dict[str, torch.Tensor]:
    return {a: torch.tensor([label_index(a, v) for v in labels[a]]) for a in ATTRIBUTES}


def _degrade(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random blur and noise, so the measurer reads the softer, noisier images a small diffusion model draws."""
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    mix = torch.rand(x.shape[0], 1, 1, 1, generator=gen) * 0.6
    sigma = torch.rand(x.shape[0], 1, 1, 1, generator=gen) * 0.08
    return (1 - mix) * x + mix * blurred + sigma * torch.randn(x.shape, generator=gen)


def train_net(config: MeasurerConfig, log=print) -> AttributeNet:
    """Trains an :class:`AttributeNet` from scratch on ``config.train_count`` scenes (all combinations allowed)."""
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    images, labels = stack(generate(config.seed, "train", config.train_count, config.size, captions_drop=False))
    x, y = to_tensor(images), _label_tensor(labels)
    net = AttributeNet(config.width)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    steps = config.epochs * ((len(x) + config.batch_size - 1) // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps)
    net.train()
    for epoch in range(config.epochs):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), config.batch_size):
            idx = order[start:start + config.batch_size]
            out = net(_degrade(x[idx], gen))
            loss = sum(F.cross_entropy(out[a], y[a][idx]) for a in ATTRIBUTES)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        log(f"measurer epoch {epoch + 1}/{config.epochs}: loss {total / len(x):.4f}")
    return net.eval()


@torch.no_grad()
def predict(net: AttributeNet, images: np.ndarray, batch_size: int = 256) -> dict[str, list[str]]:
    """Predicted value of every attribute for uint8 images (N, H, W, 3)."""
    net.eval()
    picks: dict[str, list[int]] = {a: [] for a in ATTRIBUTES}
    for start in range(0, len(images), batch_size):
        out = net(to_tensor(images[start:start + batch_size]))
        for a in ATTRIBUTES:
            picks[a] += out[a].argmax(dim=1).tolist()
    return {a: [VALUES[a][i] for i in picks[a]] for a in ATTRIBUTES}


def accuracy(predicted: dict[str, list[str]], truth: dict[str, list[str]]) -> dict[str, float]:
    """Fraction of exact matches per attribute."""
    return {a: float(np.mean([p == t for p, t in zip(predicted[a], truth[a])])) for a in ATTRIBUTES}


@dataclass
class Measurer:
    """A trained net with its held-out accuracy; ``trusted`` when every attribute reaches the threshold."""

    net: AttributeNet
    config: MeasurerConfig
    heldout_accuracy: dict[str, float]
    folder: Path

    @property
    def trusted(self) -> bool:
        """True when every attribute's held-out accuracy is ≥ :data:`TRUST_THRESHOLD`."""
        return all(v >= TRUST_THRESHOLD for v in self.heldout_accuracy.values())

    def require_trusted(self) -> None:
        """Raises ``RuntimeError`` naming each attribute below the threshold: no metrics through a bad measurer."""
        low = {a: v for a, v in self.heldout_accuracy.items() if v < TRUST_THRESHOLD}
        if low:
            detail = ", ".join(f"{a} {v:.3f}" for a, v in low.items())
            raise RuntimeError(f"measurer {self.folder.name} is not trusted (held-out accuracy < "
                               f"{TRUST_THRESHOLD}: {detail}); refusing to report metrics through it")

    def predict(self, images: np.ndarray) -> dict[str, list[str]]:
        """See :func:`predict`."""
        return predict(self.net, images)


def load_or_train(config: MeasurerConfig = MeasurerConfig(), log=print) -> Measurer:
    """The measurer for ``config`` from the cache, training and evaluating it first when absent.

    The held-out scenes come from the ``heldout`` split, whose random streams never meet the training split's.
    """
    folder = entry("measurer", config, CODE_VERSION)
    weights, report = folder / "measurer.pt", folder / "report.json"
    if weights.exists() and report.exists():
        net = AttributeNet(config.width)
        net.load_state_dict(torch.load(weights, weights_only=True))
        acc = json.loads(report.read_text())["heldout_accuracy"]
        return Measurer(net.eval(), config, acc, folder)
    net = train_net(config, log)
    images, labels = stack(generate(config.seed, "heldout", config.heldout_count, config.size, captions_drop=False))
    acc = accuracy(predict(net, images), labels)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), weights)
    # The report is written last: its presence marks a complete cache entry.
    report.write_text(json.dumps({"config": asdict(config), "heldout_accuracy": acc}, indent=2))
    log("measurer held-out accuracy: " + ", ".join(f"{a} {v:.4f}" for a, v in acc.items()))
    return Measurer(net, config, acc, folder)
