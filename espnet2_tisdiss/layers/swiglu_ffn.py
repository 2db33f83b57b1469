"""SwiGLU convolution-deconvolution feed-forward network along one axis."""

import math
from functools import partial
from typing import Callable, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from espnet2_tisdiss.layers.conv2d import conv2d
from espnet2_tisdiss.layers.paths import TwoPaths


class SwiGLUConvDeconv1d(TwoPaths, nn.Module):
    """Feed-forward network with local modelling: Conv1d -> SwiGLU -> ConvTranspose1d.

    The sequence axis is padded so that the transposed convolution returns
    exactly as many positions as went in; positions are then cropped back.

    Two implementations of the same function, chosen per call by
    ``layers.paths``: the plain one moves the sequence to an [N, C, L] tensor
    and runs ``nn.Conv1d`` and ``nn.ConvTranspose1d`` (standard autograd). The
    tuned CPU one works on any axis of a channels-last tensor, with no transpose:

    * the tensor is viewed as an NCHW image in channels-last memory with the
      sequence as its height or width, and convolved with (K, 1) or (1, K)
      kernels (the Conv1d weights with a unit dimension added); the pad and
      crop of the reference are the convolutions' ``padding`` arguments, and
      the weight gradients are matmuls (see :func:`conv2d`);
    * sequences no longer than K (the speaker path, L = J) are mapped by one
      matmul per convolution with a banded matrix built from the kernels,
      which skips the mostly-zero padded windows.

    References:
        K. Saijo et al., "TF-Locoformer", IWAENC 2024 (Sec. 2.2, Fig. 1).

    Args:
        dim (int): channels C of the input and output.
        hidden_dim (int): channels H after the gated linear unit.
        kernel_size (int): convolution kernel K along the sequence.
        stride (int): convolution stride S (the "shift"); 1 <= S <= K.
        dropout (float): dropout after the gate and after the output.

    Shapes:
        input: [..., L, ..., C] (the sequence is dim ``axis``, default -2);
        output: same shape.
    """

    def __init__(
        self,
        dim: int,
        hidden_dim: int,
        kernel_size: int = 4,
        stride: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not 1 <= stride <= kernel_size:
            raise ValueError(
                f"SwiGLUConvDeconv1d: stride={stride} must be between 1 and "
                f"kernel_size={kernel_size}."
            )
        self.hidden_dim = hidden_dim
        self.kernel_size = kernel_size
        self.stride = stride
        self.conv = nn.Conv1d(dim, 2 * hidden_dim, kernel_size, stride=stride)
        self.deconv = nn.ConvTranspose1d(hidden_dim, dim, kernel_size, stride=stride)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, axis: int = -2) -> torch.Tensor:
        axis = axis % x.dim() - x.dim()
        if axis == -1:
            raise ValueError("SwiGLUConvDeconv1d: axis must not be the channel axis.")
        if not self.tuned(x):
            return self._plain(x, axis)
        if x.shape[axis] <= self.kernel_size:
            return self._banded(x, axis)
        return self._convolved(x, axis)

    def padding(self, length: int) -> Tuple[int, int]:
        """The reference's (front, back) zero padding of a length-L sequence."""
        overlap = self.kernel_size - self.stride
        n_steps = math.ceil((length + 2 * overlap - self.kernel_size) / self.stride)
        return overlap, n_steps * self.stride + self.kernel_size - length - overlap

    def _plain(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        """Pad, Conv1d, SwiGLU, ConvTranspose1d and crop on [N, C, L]; standard autograd.

        Returns the input's shape [..., L, ..., C], contiguous.
        """
        seq = x.movedim(axis, -2)  # [..., L, C]
        lead, (length, channels) = seq.shape[:-2], seq.shape[-2:]
        seq = seq.reshape(-1, length, channels).transpose(1, 2)  # [N, C, L]
        front, back = self.padding(length)
        value, gate = self.conv(F.pad(seq, (front, back))).chunk(2, dim=1)  # [N, H, L1] each
        out = self.deconv(self._drop(value * F.silu(gate)))[..., front : front + length]  # [N, C, L]
        out = out.transpose(1, 2).reshape(*lead, length, channels)  # [..., L, C]
        return self._drop(out.movedim(-2, axis).contiguous())

    def _convolved(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        """Both convolutions as 2-D convolutions of a channels-last image."""
        shape, length = x.shape, x.shape[axis]
        front, back = self.padding(length)
        x = x.contiguous()
        if axis == -2 and x.dim() > 2:
            # Note: a sequence right before C is the image width, the dim
            # before it the height: oneDNN is about twice as fast on such
            # [N, C, T, F] images as on [N*T, C, F, 1] ones with width 1.
            image = x.flatten(0, -4) if x.dim() > 3 else x.unsqueeze(0)  # [N, A, L, C]
            seq_dim, unit_dim = 3, 2
        else:
            image = x.reshape(math.prod(shape[:axis]), length, -1, shape[-1])  # [N, L, R, C]
            seq_dim, unit_dim = 2, 3
        image = image.permute(0, 3, 1, 2)  # NCHW view of channels-last memory
        if back > front:  # only for some lengths with stride > 1
            pad = [0, 0, 0, 0]
            pad[2 * (3 - seq_dim) + 1] = back - front
            image = F.pad(image, pad)
        stride, padding = [1, 1], [0, 0]
        stride[seq_dim - 2], padding[seq_dim - 2] = self.stride, front
        hidden = _swiglu(
            conv2d(image, self.conv.weight.unsqueeze(unit_dim), self.conv.bias, stride, padding),
            self.hidden_dim,
        )
        # Note: ConvTranspose's `padding` drops `front` positions at both ends:
        # the reference crop [front : front + L] when no right pad was added
        # (always for S = 1); otherwise the tail beyond L is cut off below.
        out = conv2d(
            self._drop(hidden), self.deconv.weight.unsqueeze(unit_dim), self.deconv.bias,
            stride, padding, transposed=True,
        )
        if out.shape[seq_dim] != length:
            out = out.narrow(seq_dim, 0, length)  # not a no-op narrow: its backward copies
        return self._drop(out.permute(0, 2, 3, 1)).reshape(shape)

    def _banded(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        """Both convolutions as matmuls with banded matrices, for L <= K."""
        length, channels = x.shape[axis], x.shape[-1]
        seq = x.movedim(axis, -2)  # [..., L, C]
        conv, deconv, n_out = self.banded_maps(length)
        gated = conv(seq.reshape(-1, length * channels))  # [M, L1 * 2H]
        hidden = _swiglu(gated.view(-1, n_out, 2 * self.hidden_dim), self.hidden_dim, -1)
        out = deconv(self._drop(hidden).view(-1, n_out * self.hidden_dim))  # [M, L * C]
        return self._drop(out.view(seq.shape).movedim(-2, axis))

    def banded_maps(self, length: int) -> Tuple[Callable, Callable, int]:
        """The two affine maps of :meth:`_banded` for length L, and L1.

        Returns:
            conv map [M, L * C] -> [M, L1 * 2H], deconv map [M, L1 * H] ->
            [M, L * C] (biases included), and the conv output length L1.
        """
        conv_matrix, deconv_matrix, n_out = self._band_matrices(length)
        return (
            partial(F.linear, weight=conv_matrix, bias=self.conv.bias.repeat(n_out)),
            partial(F.linear, weight=deconv_matrix, bias=self.deconv.bias.repeat(length)),
            n_out,
        )

    def _band_matrices(self, length: int) -> Tuple[torch.Tensor, torch.Tensor, int]:
        """Dense matrices of the padded convolution and the cropped deconvolution.

        Conv output p sees padded input p*S + k, i.e. input l = p*S + k - front;
        the cropped deconv output l receives hidden p through the same tap k.
        So both matrices hold tap ``k = l + front - p*S`` at (l, p), zero where
        k is out of range.

        Returns:
            conv matrix [L1 * 2H, L * C] (F.linear layout), deconv matrix
            [L * C, L1 * H], and the conv output length L1.
        """
        front, back = self.padding(length)
        n_out = (front + length + back - self.kernel_size) // self.stride + 1
        device = self.conv.weight.device
        taps = (
            torch.arange(length, device=device)[:, None] + front
            - self.stride * torch.arange(n_out, device=device)[None, :]
        )  # [L, L1]
        taps = taps.where((taps >= 0) & (taps < self.kernel_size), self.kernel_size)
        conv = F.pad(self.conv.weight, (0, 1))[:, :, taps]  # [2H, C, L, L1]
        deconv = F.pad(self.deconv.weight, (0, 1))[:, :, taps]  # [H, C, L, L1]
        return (
            conv.permute(3, 0, 2, 1).reshape(n_out * 2 * self.hidden_dim, -1),
            deconv.permute(2, 1, 3, 0).reshape(-1, n_out * self.hidden_dim),
            n_out,
        )

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x) if self.training and self.dropout.p > 0 else x


def _swiglu(gated: torch.Tensor, hidden_dim: int, dim: int = 1) -> torch.Tensor:
    """``value * silu(gate)`` with value, gate = the two halves of ``gated`` along ``dim``."""
    return _SwiGLUFunction.apply(gated, hidden_dim, dim)


class _SwiGLUFunction(torch.autograd.Function):
    """The gated linear unit with a backward that writes one gradient buffer.

    Note: autograd of ``split`` + ``mul`` + ``silu`` concatenates the two
    half-gradients in an extra full-size copy; here both halves are written
    straight into the halves of one buffer laid out like the input.
    """

    @staticmethod
    def forward(ctx, gated, hidden_dim, dim):
        value, gate = gated.split(hidden_dim, dim)
        activation = F.silu(gate)
        ctx.save_for_backward(gated, activation)
        ctx.hidden_dim, ctx.dim = hidden_dim, dim
        return value * activation

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        gated, activation = ctx.saved_tensors
        value, gate = gated.split(ctx.hidden_dim, ctx.dim)
        grad = torch.empty_like(gated)  # same strides as gated
        grad_value, grad_gate = grad.split(ctx.hidden_dim, ctx.dim)
        torch.mul(grad_out, activation, out=grad_value)
        torch.ops.aten.silu_backward.grad_input(grad_out * value, gate, grad_input=grad_gate)
        return grad, None, None
