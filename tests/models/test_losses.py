import torch

from deep_halftoning.models.losses import balanced_bce, gram, local_gram, lsgan, style_loss


def test_gram_matrices():
    f = torch.rand(2, 4, 8, 8)
    g = gram(f)
    assert g.shape == (2, 4, 4)
    torch.testing.assert_close(g, g.transpose(1, 2))
    torch.testing.assert_close(g[0, 1, 2], (f[0, 1] * f[0, 2]).mean())
    assert local_gram(f, 4).shape == (8, 4, 4)  # 2 images x 4 tiles


def test_style_loss_is_zero_for_identical_textures_and_positive_otherwise():
    f = [torch.rand(1, 4, 16, 16), torch.rand(1, 8, 8, 8)]
    assert style_loss(f, f) == 0
    assert style_loss(f, [t * 2 for t in f]) > 0
    assert style_loss(f, [t * 2 for t in f], patch=4) > 0


def test_balanced_bce_weights_rare_edges():
    target = torch.zeros(1, 1, 10, 10)
    target[..., 0, :3] = 1  # 3 % edges
    miss_edges = torch.full_like(target, -5.0)  # predicts "no edge" everywhere
    miss_background = torch.where(target > 0, 5.0, -5.0)
    assert balanced_bce(miss_edges, target) > 10 * balanced_bce(miss_background, target)


def test_lsgan():
    assert lsgan(torch.ones(3), True) == 0 and lsgan(torch.zeros(3), False) == 0
    assert lsgan(torch.zeros(3), True) == 1
