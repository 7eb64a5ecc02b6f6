import pytest
import torch

from deep_halftoning.models import CoarseNet, DetailsNet, EdgeNet, ObjectNet, PatchDiscriminator, build_features
from deep_halftoning.models.blocks import count_parameters
from deep_halftoning.models.pretrained import PretrainedWeightsUnavailable


def test_full_width_parameter_counts_match_the_design():
    assert count_parameters(CoarseNet()) == pytest.approx(16.8e6, rel=0.10)
    assert count_parameters(EdgeNet()) == pytest.approx(0.1e6, rel=0.10)
    assert count_parameters(CoarseNet(width=16)) < 1.2e6  # the lite width


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
    # the generator predicts a bounded residual on top of the coarse image
    assert (bare(x, x) - x).abs().max() <= 1.0


def test_discriminators_score_patches():
    x = torch.rand(2, 3, 64, 64)
    assert PatchDiscriminator(width=8)(x).shape[:2] == (2, 1)
    assert PatchDiscriminator(in_channels=9, width=8)(x, x, x).shape[:2] == (2, 1)


def test_state_dict_round_trip():
    for make in (
        lambda: CoarseNet(width=8, depth=3),
        lambda: EdgeNet(width=8, layers=2),
        lambda: DetailsNet(width=8, blocks=1),
    ):
        a, b = make(), make()
        b.load_state_dict(a.state_dict())
        for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(p, q), name


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
    assert count_parameters(net) == count_parameters(CoarseNet(width=8, depth=3))  # no extra parameters
    step = torch.zeros(1, 3, 24, 40)
    step[..., 20:] = 1.0
    out = net(step)
    assert 0 < out[0, 0, 0, 19] < 0.5 < out[0, 0, 0, 20] < 1  # smoothed, not copied


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
