"""The networks of the shipped recipe: the folded DetailsNet and the reference U-Net."""

import pytest
import torch
from torch import nn

from deep_halftoning.models import DetailsNet, ReferenceUNet
from deep_halftoning.models.blocks import count_parameters


def _conv(c_in: int, c_out: int, k: int = 3) -> int:
    """Weights and bias of a k x k convolution (k*k*c_in*c_out + c_out)."""
    return k * k * c_in * c_out + c_out


def test_reference_unet_is_the_issue_s_0_47_m_parameter_network():
    # issue 15: three levels of two 3x3 convolutions, widths 32, 64, 128, decoder on concatenated skips
    expected = (
        _conv(3, 32) + _conv(32, 32) + _conv(32, 64) + _conv(64, 64) + _conv(64, 128) + _conv(128, 128)
        + _conv(128 + 64, 64) + _conv(64, 64) + _conv(64 + 32, 32) + _conv(32, 32) + _conv(32, 3)
    )  # fmt: skip
    assert count_parameters(ReferenceUNet()) == expected == 472_387


@pytest.mark.parametrize("size", [(33, 50), (64, 64)])
def test_reference_unet_starts_from_a_5x5_box_blur(size):
    net = ReferenceUNet()
    nn.init.zeros_(net.head.weight)
    nn.init.zeros_(net.head.bias)
    x = torch.rand(1, 3, *size)
    blur = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(x, (2,) * 4, mode="replicate"), 5, stride=1)
    out = net(x)
    assert out.shape == x.shape
    # the centre pixel: the mean of its 5x5 neighbourhood, computed by hand
    y, z = size[0] // 2, size[1] // 2
    assert torch.allclose(out[0, :, y, z], x[0, :, y - 2 : y + 3, z - 2 : z + 3].mean(dim=(1, 2)), atol=1e-6)
    assert torch.allclose(out, blur, atol=1e-6)


def test_folded_details_net_has_full_resolution_weights_at_half_resolution_cost():
    folded = DetailsNet(width=64, blocks=8, norm="none", fold=2)
    # 7 input channels folded 2x2 -> 28; 8 blocks of two 64-channel convolutions; 3 x 4 outputs unfolded
    expected = _conv(28, 64) + 8 * 2 * _conv(64, 64) + _conv(64, 12)
    assert count_parameters(folded) == expected


@pytest.mark.parametrize("size", [(31, 45), (48, 64)])
def test_folded_details_net_keeps_odd_sizes_and_starts_as_the_identity(size):
    net = DetailsNet(width=16, blocks=2, norm="none", fold=2)
    halftone, coarse, edges = torch.rand(2, 3, *size), torch.rand(2, 3, *size), torch.rand(2, 1, *size)
    assert torch.equal(net(halftone, coarse, None, edges), coarse)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    out = net(halftone, coarse, None, edges)
    assert out.shape == coarse.shape and not torch.equal(out, coarse)
    assert (out - coarse).abs().max() <= 1.0  # a tanh residual


def test_fold_must_be_positive():
    with pytest.raises(ValueError, match="fold"):
        DetailsNet(fold=0)


def test_fft_l1_is_the_mean_absolute_difference_of_fourier_magnitudes():
    from deep_halftoning.models.losses import fft_l1

    torch.manual_seed(0)
    a, b = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    # numpy's FFT as the independent reference, orthonormal scaling, the half-spectrum of a real input
    import numpy as np

    fa = np.abs(np.fft.rfft2(a.numpy(), norm="ortho"))
    fb = np.abs(np.fft.rfft2(b.numpy(), norm="ortho"))
    assert fft_l1(a, b).item() == pytest.approx(float(np.mean(np.abs(fa - fb))), rel=1e-5)
    assert fft_l1(a, a).item() == 0.0
    # a pure shift leaves the magnitudes alone: the term ignores registration, unlike L1
    assert fft_l1(a, torch.roll(a, 3, dims=-1)).item() == pytest.approx(0.0, abs=1e-6)


def test_stages_add_the_fft_term_with_its_weight():
    from helpers import TINY_NETS, configured_stage

    from deep_halftoning.models.losses import fft_l1

    stage = configured_stage("coarse", net=TINY_NETS["coarse"], loss_weights={"l1": 2.0, "fft": 3.0, "style": 0.0})
    prediction, clean = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    terms = stage.losses(prediction, clean)
    expected = 2.0 * torch.nn.functional.l1_loss(prediction, clean) + 3.0 * fft_l1(prediction, clean)
    assert torch.allclose(terms["loss"], expected)
