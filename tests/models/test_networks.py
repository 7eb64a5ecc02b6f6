import math

import pytest
import torch

from deep_halftoning.models import CoarseNet, DetailsNet, EdgeNet, ObjectNet, PatchDiscriminator, build_features
from deep_halftoning.models.blocks import count_parameters
from deep_halftoning.models.pretrained import PretrainedWeightsUnavailable


def conv(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    """Parameters of a k x k ``nn.Conv2d`` or ``nn.ConvTranspose2d``: a c_in x c_out x k x k weight, c_out biases."""
    return c_in * c_out * k * k + (c_out if bias else 0)


def bn(channels: int) -> int:
    """Parameters of ``nn.BatchNorm2d``: an affine weight and bias per channel (running statistics are buffers)."""
    return 2 * channels


def test_full_width_parameter_counts_match_the_design():
    """Counted by hand from DESIGN.md ("Networks"): CoarseNet's 4x4 stride-2 encoder 3-64-128-256-512-512 with
    BatchNorm in the middle, transposed 4x4 convolutions back up on the concatenated skips, a 3x3 convolution to
    RGB (about 16.8 M); EdgeNet's 5 x (5x5 conv, 32 ch, BN) + 3x3 conv to one channel (about 0.1 M). Convolutions
    followed by BatchNorm carry no bias."""
    encoder = (
        conv(3, 64, 4) + conv(64, 128, 4, False) + bn(128) + conv(128, 256, 4, False) + bn(256)
        + conv(256, 512, 4, False) + bn(512) + conv(512, 512, 4)
    )  # fmt: skip
    decoder = (  # each level after the innermost reads its input concatenated with the encoder's skip
        conv(512, 512, 4, False) + bn(512) + conv(2 * 512, 256, 4, False) + bn(256)
        + conv(2 * 256, 128, 4, False) + bn(128) + conv(2 * 128, 64, 4, False) + bn(64) + conv(2 * 64, 64, 4)
    )  # fmt: skip
    assert count_parameters(CoarseNet()) == encoder + decoder + conv(64, 3, 3) == 16_786_371
    edge = conv(3, 32, 5, False) + bn(32) + 4 * (conv(32, 32, 5, False) + bn(32)) + conv(32, 1, 3)
    assert count_parameters(EdgeNet()) == edge == 105_409
    # the lite width (networks=lite): every layer 16/64 as wide, i.e. 3-16-32-64-128-128
    lite = (
        conv(3, 16, 4) + conv(16, 32, 4, False) + bn(32) + conv(32, 64, 4, False) + bn(64)
        + conv(64, 128, 4, False) + bn(128) + conv(128, 128, 4)
        + conv(128, 128, 4, False) + bn(128) + conv(2 * 128, 64, 4, False) + bn(64)
        + conv(2 * 64, 32, 4, False) + bn(32) + conv(2 * 32, 16, 4, False) + bn(16) + conv(2 * 16, 16, 4)
        + conv(16, 3, 3)
    )  # fmt: skip
    assert count_parameters(CoarseNet(width=16)) == lite == 1_050_867


@pytest.mark.parametrize("size", [(1, 1), (37, 50), (64, 64)])
def test_outputs_keep_the_input_size(size):
    x = torch.rand(2, 3, *size)
    assert CoarseNet(width=8, depth=3)(x).shape == (2, 3, *size)
    assert EdgeNet(width=8, layers=2)(x).shape == (2, 1, *size)


def test_object_net_is_dilated_to_stride_8_and_has_an_aux_head():
    net = ObjectNet(num_classes=5, backbone="resnet18", head_width=32)
    x = torch.rand(2, 3, 64, 96)
    features = net.layer4(net.layer3(net.layer2(net.layer1(net.stem(x)))))
    assert features.shape[-2:] == (8, 12)
    logits, aux = net(x)
    assert logits.shape == aux.shape == (2, 5, 64, 96)
    assert net.eval()(x).shape == (2, 5, 64, 96)


def test_pretrained_weights_fail_with_one_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr("torch.hub.load_state_dict_from_url", _offline)
    with pytest.raises(PretrainedWeightsUnavailable, match=r"copy it to .*resnet18-f37072fd\.pth"):
        ObjectNet(backbone="resnet18", pretrained="imagenet")
    with pytest.raises(PretrainedWeightsUnavailable, match="vgg19"):
        build_features("vgg")


def _offline(*args, **kwargs):
    raise OSError("network unreachable")


def test_cached_weights_are_loaded(monkeypatch, tmp_path):
    from torchvision import models

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = models.resnet18(weights=None)
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(reference.state_dict(), cache / "resnet18-f37072fd.pth")
    net = ObjectNet(backbone="resnet18", pretrained="imagenet", head_width=16)
    torch.testing.assert_close(net.stem[0].weight, reference.conv1.weight)


def test_details_net_inputs_are_switchable():
    x = torch.rand(1, 3, 16, 16)
    full = DetailsNet(object_channels=25, use_edges=True, width=8, blocks=1)
    assert full.body[0].in_channels == 32  # the paper's 3 + 3 + 25 + 1
    out = full(x, x, torch.rand(1, 25, 16, 16), torch.rand(1, 1, 16, 16))
    assert out.shape == x.shape
    bare = DetailsNet(object_channels=0, use_edges=False, width=8, blocks=1)
    assert bare.body[0].in_channels == 6 and bare(x, x).shape == x.shape
    with pytest.raises(ValueError, match="object maps"):
        full(x, x, None, torch.rand(1, 1, 16, 16))
    with pytest.raises(ValueError, match="edge maps"):
        DetailsNet(use_edges=True, width=8, blocks=1)(x, x)


def test_details_net_residual_is_bounded_by_its_tanh():
    """Whatever the weights, DetailsNet adds at most 1 to the coarse image (a tanh residual).

    The head starts at zero (the identity), where any bound holds: drive it hard enough to saturate the tanh.
    """
    torch.manual_seed(0)
    net = DetailsNet(object_channels=0, use_edges=False, width=8, blocks=1)
    head = net.body[-2]
    with torch.no_grad():
        head.weight.normal_(0.0, 50.0)
        head.bias.normal_(0.0, 50.0)
    halftone, coarse = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    residual = net(halftone, coarse) - coarse
    assert residual.abs().max() <= 1.0
    assert residual.abs().max() > 0.99 and (residual > 0.5).any() and (residual < -0.5).any()  # saturated both ways


def test_discriminators_score_patches():
    x = torch.rand(2, 3, 64, 64)
    assert PatchDiscriminator(width=8)(x).shape[:2] == (2, 1)
    assert PatchDiscriminator(in_channels=9, width=8)(x, x, x).shape[:2] == (2, 1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CoarseNet(width=8, depth=3, max_width=128, norm="instance", lowpass=1.0, full_res=4),
        lambda: EdgeNet(width=8, layers=3, norm="none"),
        lambda: DetailsNet(object_channels=5, use_edges=False, width=8, blocks=2, norm="instance", fold=2),
        lambda: PatchDiscriminator(in_channels=9, width=8, layers=2, norm="batch"),
    ],
)
def test_config_rebuilds_the_same_architecture(make):
    """Checkpoints store a network's ``config`` and later stages rebuild the network from it: every constructor
    option must be in it, or the rebuilt network differs from the trained one (or loads only by luck; options
    such as ``lowpass`` change no parameter shape, only the outputs)."""
    net = make().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # off any zero-initialised start, so the outputs say something
    rebuilt = type(net)(**net.config).eval()
    assert rebuilt.config == net.config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in net.state_dict().items()}
    rebuilt.load_state_dict(net.state_dict())
    x = torch.rand(1, 3, 16, 16)
    inputs = {
        CoarseNet: (x,),
        EdgeNet: (x,),
        DetailsNet: (x, x, torch.rand(1, 5, 16, 16)),
        PatchDiscriminator: (torch.rand(1, 9, 16, 16),),
    }[type(net)]
    torch.testing.assert_close(rebuilt(*inputs), net(*inputs), rtol=0, atol=0)


def test_random_features_are_fixed_and_frozen():
    a, b = build_features("random", seed=3), build_features("random", seed=3)
    x = torch.rand(1, 3, 32, 32)
    for fa, fb in zip(a(x), b(x), strict=True):
        torch.testing.assert_close(fa, fb)
    assert not any(p.requires_grad for p in a.parameters())
    assert build_features("off") is None
    with pytest.raises(ValueError):
        build_features("resnet")


def test_coarse_lowpass_option_predicts_a_residual_over_a_blur():
    net = CoarseNet(width=8, depth=3, lowpass=1.5).eval()
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()
    flat = torch.full((1, 3, 24, 40), 0.3)
    torch.testing.assert_close(net(flat), flat)  # the blur of a flat image is itself
    # no extra parameters: 3-8-16-32 encoder, decoder on the skips, 3x3 head, counted by hand
    hand = (
        conv(3, 8, 4) + conv(8, 16, 4, False) + bn(16) + conv(16, 32, 4)
        + conv(32, 16, 4, False) + bn(16) + conv(2 * 16, 8, 4, False) + bn(8) + conv(2 * 8, 8, 4) + conv(8, 3, 3)
    )  # fmt: skip
    assert count_parameters(net) == count_parameters(CoarseNet(width=8, depth=3)) == hand == 25_307
    step = torch.zeros(1, 3, 24, 40)
    step[..., 20:] = 1.0
    out = net(step)
    assert 0 < out[0, 0, 0, 19] < 0.5 < out[0, 0, 0, 20] < 1  # smoothed, not copied


@pytest.mark.parametrize(("sigma", "radius"), [(1.0, 3), (2.0, 6)])
def test_coarse_lowpass_is_a_gaussian_truncated_at_three_sigma(sigma, radius):
    """The step response of the blur, by hand: a vertical edge between columns 19 and 20 of a 0/1 image becomes
    the cumulative sums of g(x) = exp(-x^2 / 2 sigma^2), x = -3 sigma..3 sigma, normalised to 1."""
    net = CoarseNet(width=8, depth=3, lowpass=sigma).eval()
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()  # the network's output is then the blur alone
    step = torch.zeros(1, 3, 24, 40)
    step[..., 20:] = 1.0
    g = [math.exp(-(x**2) / (2 * sigma**2)) for x in range(-radius, radius + 1)]
    # column 20 - d sees the taps that reach column 20 and beyond: x >= d
    expected = torch.tensor([sum(g[radius + d :]) / sum(g) for d in range(radius + 1, -radius - 1, -1)])
    columns = range(20 - radius - 1, 20 + radius + 1)
    torch.testing.assert_close(net(step)[0, :, 12, list(columns)], expected.expand(3, -1), rtol=0, atol=1e-6)


@pytest.mark.parametrize("size", [(1, 1), (37, 50)])
def test_coarse_full_res_option_adds_full_resolution_features(size):
    plain, wide = CoarseNet(width=8, depth=3), CoarseNet(width=8, depth=3, full_res=4)
    x = torch.rand(2, 3, *size)
    assert wide(x).shape == (2, 3, *size)
    assert wide.stem[0].stride == (1, 1) and wide.merge[0].in_channels == 8 + 4
    # off by default: the same weights as before, so older checkpoints still load
    assert not any(k.startswith(("stem", "merge")) for k in plain.state_dict())
    with pytest.raises(ValueError, match="full_res"):
        CoarseNet(width=8, depth=3, full_res=-1)
