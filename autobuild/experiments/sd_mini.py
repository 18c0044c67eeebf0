"""SD-mini: an affordable stand-in for the paper's Sec. 5.3 inpainting evaluation.

Each U-Net of :mod:`autobuild.spaces.unet` is built at reduced width (``MINI``) as an
inpainting denoiser in the SD-inpainting style: its input is the noisy image, the mask and
the masked image (3 + 1 + 3 channels, pixel space instead of SD's VAE latents), conditioned
through cross-attention on one learnt "empty prompt" token. It is trained with ``diffusers``'
``DDPMScheduler`` (predicting the clean image, which learns far faster in 150 steps than SD's
epsilon prediction) on random crops of natural photographs shipped inside
``scikit-image`` (``skimage.data``), then inpaints held-out crops under predefined masks with
``DDIMScheduler``. The score is the Fréchet distance (FD) between features of the held-out
real crops and of the inpainted ones, the features coming from a fixed randomly initialised
conv net (seeded; no download). Lower is better. This is not FID and not the paper's experiment.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from autobuild.spaces.base import Architecture
from autobuild.spaces.unet import MINI, UNetSpace, UNetWidth, count_flops

# Photographs shipped in scikit-image's wheel (skimage/data), with their licences.
IMAGES = {
    "astronaut": "public domain (NASA)",
    "chelsea": "CC0 (Stefan van der Walt)",
    "coffee": "CC0 (Rachel Michetti)",
    "rocket": "public domain (SpaceX)",
    "camera": "CC0 (Lav Varshney), grey",
    "grass": "CC0 (DeviantArt linolafett), grey",
    "gravel": "CC0 (CC0Textures), grey",
    "brick": "CC0 (CC0Textures), grey",
}


@dataclass(frozen=True)
class SDRecipe:
    """Every setting of one SD-mini evaluation (the recipe committed beside the results)."""

    resolution: int = 16          # crop side in pixels (4 U-Net stages: 16, 8, 4, 2)
    image_side: int = 64          # photos are resized so that their short side is this
    heldout_fraction: float = 0.25  # right-most part of every photo, never trained on
    base_channels: tuple = (10, 20, 40, 40)
    norm_num_groups: int = 2
    attention_heads: int = 1
    context_dim: int = 32
    steps: int = 150
    batch_size: int = 16
    lr: float = 2e-3
    warmup: int = 20
    train_timesteps: int = 1000
    prediction_type: str = "sample"  # the U-Net predicts the clean image (x0); SD predicts epsilon
    ddim_steps: int = 10
    n_eval_crops: int = 64        # held-out crops inpainted, each under 2 predefined masks
    n_samples_kept: int = 8       # inpaintings stored for figures
    feature_seed: int = 0
    eval_seed: int = 1234

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SDRecipe":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown recipe fields {sorted(unknown)}; known: {sorted(names)}")
        d = dict(d)
        if "base_channels" in d:
            d["base_channels"] = tuple(d["base_channels"])
        return cls(**d)

    def digest(self) -> str:
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:10]

    def width(self) -> UNetWidth:
        return dataclasses.replace(MINI, base_channels=tuple(self.base_channels), sample_size=self.resolution,
                                   norm_num_groups=self.norm_num_groups, attention_head_dim=self.attention_heads,
                                   cross_attention_dim=self.context_dim)


# Data -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def load_photos(recipe: SDRecipe) -> list[np.ndarray]:
    """The photos as float32 ``(3, H, W)`` arrays in [-1, 1], short side ``recipe.image_side``."""
    import skimage.data
    from skimage.transform import resize

    out = []
    for name in IMAGES:
        img = np.asarray(getattr(skimage.data, name)(), dtype=np.float32) / 255.0
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        h, w = img.shape[:2]
        s = recipe.image_side / min(h, w)
        img = resize(img, (round(h * s), round(w * s)), anti_aliasing=True, order=1)
        out.append(np.ascontiguousarray(img.transpose(2, 0, 1) * 2 - 1, dtype=np.float32))
    return out


def split_photos(photos: list[np.ndarray], recipe: SDRecipe) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Training part (left) and held-out part (right ``heldout_fraction``) of every photo."""
    train, held = [], []
    for p in photos:
        cut = int(round(p.shape[2] * (1 - recipe.heldout_fraction)))
        if p.shape[2] - cut < recipe.resolution:
            raise ValueError(f"held-out strip of {p.shape[2] - cut} px is narrower than a {recipe.resolution} px crop")
        train.append(p[:, :, :cut])
        held.append(p[:, :, cut:])
    return train, held


def heldout_crops(held: list[np.ndarray], recipe: SDRecipe, stride: int = 4) -> torch.Tensor:
    """Every ``resolution`` crop of the held-out strips at ``stride`` (the real reference set)."""
    r = recipe.resolution
    crops = [p[:, i:i + r, j:j + r] for p in held
             for i in range(0, p.shape[1] - r + 1, stride) for j in range(0, p.shape[2] - r + 1, stride)]
    return torch.from_numpy(np.stack(crops))


def random_crops(train: list[np.ndarray], n: int, recipe: SDRecipe, gen: torch.Generator) -> torch.Tensor:
    """``n`` random training crops (uniform photo, position, horizontal flip)."""
    r = recipe.resolution
    out = []
    for _ in range(n):
        p = train[int(torch.randint(len(train), (1,), generator=gen))]
        i = int(torch.randint(p.shape[1] - r + 1, (1,), generator=gen))
        j = int(torch.randint(p.shape[2] - r + 1, (1,), generator=gen))
        c = torch.from_numpy(p[:, i:i + r, j:j + r])
        if torch.rand((), generator=gen) < 0.5:
            c = c.flip(2)
        out.append(c)
    return torch.stack(out)


def random_box_masks(n: int, res: int, gen: torch.Generator, lo: float = 0.25, hi: float = 0.75) -> torch.Tensor:
    """``(n, 1, res, res)`` masks (1 = to inpaint) of one random box each, sides in [lo, hi]*res."""
    masks = torch.zeros(n, 1, res, res)
    for k in range(n):
        h, w = (int(torch.randint(int(lo * res), int(hi * res) + 1, (1,), generator=gen)) for _ in range(2))
        i = int(torch.randint(res - h + 1, (1,), generator=gen))
        j = int(torch.randint(res - w + 1, (1,), generator=gen))
        masks[k, 0, i:i + h, j:j + w] = 1
    return masks


def eval_set(recipe: SDRecipe) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed evaluation: all held-out crops (reals), and the crops to inpaint with their
    predefined masks (each chosen crop twice: a centred half-side box and a seeded random box)."""
    _, held = split_photos(load_photos(recipe), recipe)
    reals = heldout_crops(held, recipe)
    gen = torch.Generator().manual_seed(recipe.eval_seed)
    pick = torch.randperm(len(reals), generator=gen)[:recipe.n_eval_crops]
    images = reals[pick].repeat(2, 1, 1, 1)
    r, q = recipe.resolution, recipe.resolution // 4
    centre = torch.zeros(len(pick), 1, r, r)
    centre[:, :, q:r - q, q:r - q] = 1
    masks = torch.cat([centre, random_box_masks(len(pick), r, gen)])
    return reals, images, masks


# Model ------------------------------------------------------------------------------------
class InpaintDenoiser(nn.Module):
    """A diffusers U-Net reading ``[noisy, mask, masked image]`` with a learnt empty-prompt token."""

    def __init__(self, unet: nn.Module, context_dim: int):
        super().__init__()
        self.unet = unet
        self.null_context = nn.Parameter(torch.zeros(1, 1, context_dim))

    def forward(self, noisy, mask, masked, t):
        ctx = self.null_context.expand(noisy.shape[0], -1, -1)
        return self.unet(torch.cat([noisy, mask, masked], dim=1), t, encoder_hidden_states=ctx).sample


def schedulers(recipe: SDRecipe):
    from diffusers import DDIMScheduler, DDPMScheduler

    train = DDPMScheduler(num_train_timesteps=recipe.train_timesteps, prediction_type=recipe.prediction_type)
    sample = DDIMScheduler.from_config(train.config, timestep_spacing="trailing")
    return train, sample


def train_denoiser(space: UNetSpace, arch: Architecture, recipe: SDRecipe, seed: int = 0,
                   progress: bool = False, device: str = "cpu") -> tuple[InpaintDenoiser, list[float]]:
    """Train ``arch`` at SD-mini width with the recipe; returns the model and the loss curve.
    Random draws come from CPU generators, so a GPU run sees the same batches."""
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model = InpaintDenoiser(space.build_unet(arch, recipe.width()), recipe.context_dim).to(device)
    train, _ = split_photos(load_photos(recipe), recipe)
    sched, _ = schedulers(recipe)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=1e-4)
    def lr_at(s):  # linear warm-up, then cosine decay
        return min(1.0, (s + 1) / recipe.warmup) * 0.5 * (1 + np.cos(np.pi * s / recipe.steps))

    lr_sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    losses = []
    model.train()
    for _ in tqdm(range(recipe.steps), desc="train", disable=not progress, leave=False):
        x0 = random_crops(train, recipe.batch_size, recipe, gen)
        mask = random_box_masks(recipe.batch_size, recipe.resolution, gen)
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.randint(0, recipe.train_timesteps, (recipe.batch_size,), generator=gen)
        x0, mask, noise, t = x0.to(device), mask.to(device), noise.to(device), t.to(device)
        noisy = sched.add_noise(x0, noise, t)
        target = x0 if recipe.prediction_type == "sample" else noise
        loss = torch.nn.functional.mse_loss(model(noisy, mask, x0 * (1 - mask), t), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        lr_sched.step()
        losses.append(loss.item())
    return model.eval(), losses


@torch.no_grad()
def inpaint(model: InpaintDenoiser, images: torch.Tensor, masks: torch.Tensor, recipe: SDRecipe,
            batch: int = 64) -> torch.Tensor:
    """DDIM inpainting of ``images`` where ``masks`` is 1; known pixels are kept as given."""
    _, sched = schedulers(recipe)
    sched.set_timesteps(recipe.ddim_steps)
    gen = torch.Generator().manual_seed(recipe.eval_seed)
    device = next(model.parameters()).device
    out = []
    for k in range(0, len(images), batch):
        x0, m = images[k:k + batch].to(device), masks[k:k + batch].to(device)
        masked = x0 * (1 - m)
        x = torch.randn(x0.shape, generator=gen).to(device)
        for t in sched.timesteps:
            pred = model(x, m, masked, t.to(device).expand(len(x)))
            x = sched.step(pred, t, x).prev_sample
        out.append((m * x.clamp(-1, 1) + (1 - m) * x0).cpu())
    return torch.cat(out)


# Metric -----------------------------------------------------------------------------------
class RandomFeatures(nn.Module):
    """A fixed, randomly initialised conv net (seeded): image -> 16 + 4*32 = 144 features
    (first layer globally pooled, second layer pooled to a 2x2 grid)."""

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList([nn.Conv2d(3, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)])
        for c in self.convs:
            nn.init.kaiming_normal_(c.weight, generator=g)
            nn.init.zeros_(c.bias)
        self.requires_grad_(False)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = torch.relu(self.convs[0](x))
        h2 = torch.relu(self.convs[1](nn.functional.avg_pool2d(h1, 2)))
        return torch.cat([h1.mean((2, 3)), nn.functional.adaptive_avg_pool2d(h2, 2).flatten(1)], dim=1)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature rows ``a`` and ``b``."""
    from scipy import linalg

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two (n>=2, d) feature arrays of equal d, got {a.shape} and {b.shape}")
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        eps = 1e-6 * np.eye(len(s1))
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fd_score(reals: torch.Tensor, fakes: torch.Tensor, seed: int = 0) -> float:
    net = RandomFeatures(seed)
    return frechet_distance(net(reals).numpy(), net(fakes).numpy())


# One evaluation ---------------------------------------------------------------------------
def evaluate_unet(space: UNetSpace, arch: Architecture, recipe: SDRecipe, seed: int = 0,
             progress: bool = False, device: str = "cpu") -> tuple[dict, np.ndarray]:
    """Train and score one architecture. Returns the result record and the first
    ``n_samples_kept`` inpaintings of each mask type as uint8 ``(2k, H, W, 3)``."""
    t0 = time.perf_counter()
    model, losses = train_denoiser(space, arch, recipe, seed, progress, device)
    t1 = time.perf_counter()
    reals, images, masks = eval_set(recipe)
    fakes = inpaint(model, images, masks, recipe)
    t2 = time.perf_counter()
    m = masks.expand_as(images)
    record = {
        "arch": space.to_string(arch),
        "seed": seed,
        "fd": fd_score(reals, fakes, recipe.feature_seed),
        "mse_masked": float(((fakes - images) ** 2 * m).sum() / m.sum()),
        "final_loss": float(np.mean(losses[-20:])),
        "n_params_mini": sum(p.numel() for p in model.parameters()),
        "flops_mini": count_flops(space, arch, recipe.width(), text_tokens=1),
        "train_s": round(t1 - t0, 2),
        "eval_s": round(t2 - t1, 2),
        "recipe": recipe.digest(),
        "device": str(device),
    }
    k, n = recipe.n_samples_kept, recipe.n_eval_crops
    keep = torch.cat([fakes[:k], fakes[n:n + k]])
    return record, to_uint8(keep)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
