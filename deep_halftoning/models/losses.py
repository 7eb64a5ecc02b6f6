"""Loss functions of the stages: Gram-matrix style losses, class-balanced BCE, LSGAN."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices ``N x C x C`` of ``N x C x H x W`` features: mean feature products over positions."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def local_gram(features: torch.Tensor, patch: int) -> torch.Tensor:
    """Gram matrices of non-overlapping ``patch x patch`` tiles: ``(N * tiles) x C x C``."""
    n, c, h, w = features.shape
    ph, pw = max(1, h // patch), max(1, w // patch)
    size_h, size_w = h // ph, w // pw
    tiles = features[..., : ph * size_h, : pw * size_w].reshape(n, c, ph, size_h, pw, size_w)
    tiles = tiles.permute(0, 2, 4, 1, 3, 5).reshape(n * ph * pw, c, size_h, size_w)
    return gram(tiles)


def style_loss(prediction: list[torch.Tensor], target: list[torch.Tensor], patch: int | None = None) -> torch.Tensor:
    """Sum over scales of the L1 distance between Gram matrices (global, or per ``patch`` tile)."""
    total = prediction[0].new_zeros(())
    for i, (p, t) in enumerate(zip(prediction, target, strict=True)):
        if patch is None:
            total = total + F.l1_loss(gram(p.float()), gram(t.float()))
        else:
            scale_patch = max(1, patch >> i)  # deeper maps are smaller: keep tiles on the same image area
            total = total + F.l1_loss(local_gram(p.float(), scale_patch), local_gram(t.float(), scale_patch))
    return total


def balanced_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy weighting edge and non-edge pixels by each other's frequency (HED style)."""
    positives = target.sum()
    total = target.numel()
    pos_weight = (total - positives) / positives.clamp(min=1.0)
    weight = torch.where(target > 0.5, pos_weight / (1 + pos_weight), 1 / (1 + pos_weight))
    return F.binary_cross_entropy_with_logits(logits, target, weight=weight * 2)


def lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss: scores pulled towards 1 for real, 0 for fake."""
    return F.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))


def fft_l1(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 distance between the 2-D Fourier magnitudes of two image batches (as MSPRL): penalises
    what pixel losses under-weight, the periodic residue of a screen and lost high frequencies."""
    spectrum = lambda x: torch.fft.rfft2(x.float(), norm="ortho").abs()  # noqa: E731 - fp32: no bf16 FFT on CPU
    return F.l1_loss(spectrum(prediction), spectrum(target))


def _bce(scores: torch.Tensor, real: bool) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(scores, torch.full_like(scores, 1.0 if real else 0.0))


def lsgan_discriminator(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (lsgan(real, True) + lsgan(fake, False))


def lsgan_generator(fake: torch.Tensor) -> torch.Tensor:
    return lsgan(fake, True)


def hinge_discriminator(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (F.relu(1 - real).mean() + F.relu(1 + fake).mean())


def hinge_generator(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def bce_discriminator(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (_bce(real, True) + _bce(fake, False))


def bce_generator(fake: torch.Tensor) -> torch.Tensor:
    return _bce(fake, True)


#: Adversarial losses by name: (discriminator loss of real and fake scores, generator loss of fake scores).
GAN_LOSSES = {
    "lsgan": (lsgan_discriminator, lsgan_generator),
    "hinge": (hinge_discriminator, hinge_generator),
    "bce": (bce_discriminator, bce_generator),
}
