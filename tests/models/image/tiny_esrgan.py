"""A tiny random-weight Real-ESRGAN, written as Real-ESRGAN's own ``RRDBNet`` (BasicSR's
key names, the ``params_ema`` wrapper, pixel-unshuffle for ×2), so spandrel reads it the
way it reads the published RealESRGAN_x4plus.pth and x2plus.pth. One block of 8 features
instead of 23 of 64 (the growth stays 32): a 64×64 picture upscales in milliseconds on a CPU."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

FEATURES = 8
GROWTH = 32  # spandrel's RRDB has the published growth (32) built in
BLOCKS = 1


class DenseBlock(nn.Module):
    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = nn.functional.leaky_relu
        x1 = act(self.conv1(x), 0.2)
        x2 = act(self.conv2(torch.cat((x, x1), 1)), 0.2)
        x3 = act(self.conv3(torch.cat((x, x1, x2), 1)), 0.2)
        x4 = act(self.conv4(torch.cat((x, x1, x2, x3), 1)), 0.2)
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = DenseBlock(nf, gc), DenseBlock(nf, gc), \
            DenseBlock(nf, gc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """Real-ESRGAN's generator: always ×4 inside; ×2 pixel-unshuffles its input first."""

    def __init__(self, scale: int = 4, nf: int = FEATURES, gc: int = GROWTH,
                 blocks: int = BLOCKS) -> None:
        super().__init__()
        self.scale = scale
        in_ch = 3 * (4 if scale == 2 else 1)
        self.conv_first = nn.Conv2d(in_ch, nf, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(nf, gc) for _ in range(blocks)])
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = nn.functional.leaky_relu
        if self.scale == 2:
            x = F.pixel_unshuffle(x, 2)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = act(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        feat = act(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        return self.conv_last(act(self.conv_hr(feat), 0.2))


def tiny_rrdbnet(scale: int = 4, seed: int = 0, features: int = FEATURES,
                 blocks: int = BLOCKS) -> RRDBNet:
    """Random weights around a path that carries the picture through (identity kernels on
    three channels of the first, upsampling and last layers), so the output is the
    picture enlarged plus random detail that depends on each pixel's neighbours, not a
    flat field: tiles that met wrongly would show."""
    torch.manual_seed(seed)
    net = RRDBNet(scale, nf=features, blocks=blocks)
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.normal_(module.weight, std=0.5 / (module.in_channels * 9) ** 0.5)
            nn.init.normal_(module.bias, std=0.02)
    step = 4 if scale == 2 else 1  # pixel-unshuffle puts channel c's pixels at c*4..c*4+3
    with torch.no_grad():
        for c in range(3):
            net.conv_first.weight[c, c * step, 1, 1] += 1.0
            for conv in (net.conv_up1, net.conv_up2, net.conv_hr, net.conv_last):
                conv.weight[c, c, 1, 1] += 1.0
    return net.eval()


def save(net: RRDBNet, path: Path) -> Path:
    """``path`` as the authors publish: .pth a ``{"params_ema": ...}`` pickle of tensors,
    .safetensors the bare state dict."""
    state = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save({"params_ema": state}, path)
    return path
