"""2-D (transposed) convolution whose weight gradient is one matmul over unfolded windows."""

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


def conv2d(
    image: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor],
    stride: Sequence[int] = (1, 1),
    padding: Sequence[int] = (0, 0),
    transposed: bool = False,
) -> torch.Tensor:
    """``F.conv2d`` or ``F.conv_transpose2d`` (no dilation, groups or output padding).

    The forward and the input gradient are PyTorch's (oneDNN) kernels. The
    weight gradient is computed as one matmul of the operand with the fewer
    channels unfolded into its K_h x K_w windows (im2col), and the bias
    gradient as a sum.

    Note: on channels-last images oneDNN's weight-gradient kernel ran at a
    fraction of its forward speed on the 2-core test machine (2-4x the
    forward time for the FFN's (K, 1) kernels at C = 32..128, and for the
    speaker splitter's 3x3 kernel at C = 128; also when only the bias
    gradient is asked for), while the matmul runs at full speed.

    Args:
        image: [N, C_in, H, W], best in channels-last memory.
        weight: [C_out, C_in, K_h, K_w], or [C_in, C_out, K_h, K_w] when
            ``transposed`` (the layouts of conv2d / conv_transpose2d).
        bias: [C_out] or None.
        stride, padding: (height, width).
        transposed: a transposed convolution.

    Shapes:
        output: [N, C_out, H', W'] as ``F.conv2d`` / ``F.conv_transpose2d`` give.
    """
    return _Conv2d.apply(image, weight, bias, tuple(stride), tuple(padding), transposed)


class _Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, image, weight, bias, stride, padding, transposed):
        device = image.device.type
        if torch.amp.is_autocast_available(device) and torch.is_autocast_enabled(device):
            # Note: autocast would cast inside F.conv2d only; the backward needs
            # the operands in the dtype the forward used (autograd casts the
            # returned gradients back to each input's dtype).
            dtype = torch.get_autocast_dtype(device)
            image, weight = image.to(dtype), weight.to(dtype)
            bias = None if bias is None else bias.to(dtype)
        ctx.save_for_backward(image, weight)
        ctx.options = (stride, padding, transposed, bias is not None)
        conv = F.conv_transpose2d if transposed else F.conv2d
        return conv(image, weight, bias, stride, padding)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        image, weight = ctx.saved_tensors
        stride, padding, transposed, has_bias = ctx.options
        grad_image = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_image = torch.ops.aten.convolution_backward(
                grad_out, image, weight, None, list(stride), list(padding), [1, 1],
                transposed, [0, 0], 1, [True, False, False],
            )[0]
        if has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_out.sum((0, 2, 3))
        if ctx.needs_input_grad[1]:
            # conv:       dW[o, c, i, j] = sum_p grad_out[p, o] * pad(image)[p*S + (i, j), c]
            # transposed: dW[c, o, i, j] = sum_p image[p, c] * pad(grad_out)[p*S + (i, j), o]
            rows, windowed = (image, grad_out) if transposed else (grad_out, image)
            rows, windowed = rows.permute(0, 2, 3, 1), windowed.permute(0, 2, 3, 1)  # NHWC
            if weight.shape[3] == 1 and stride[0] == 1 and padding[1] == 0:
                grad_weight = _height_taps_grad(rows, windowed, weight.shape, padding[0])
            else:
                grad_weight = _unfolded_grad(rows, windowed, weight.shape, stride, padding)
        return grad_image, grad_weight, grad_bias, None, None, None


def _unfolded_grad(rows, windowed, shape, stride, padding):
    """The weight gradient as rows^T @ im2col(windowed); NHWC inputs."""
    (pad_h, pad_w), (k_h, k_w) = padding, shape[2:]
    windows = (
        F.pad(windowed, (0, 0, pad_w, pad_w, pad_h, pad_h))
        .unfold(1, k_h, stride[0])
        .unfold(2, k_w, stride[1])
    )  # [N, H_rows, W_rows, C', K_h, K_w]
    rows = rows.reshape(-1, rows.shape[-1])  # [N*H*W, C_rows]
    return rows.t().mm(windows.reshape(rows.shape[0], -1)).view(shape)


def _height_taps_grad(rows, windowed, shape, padding):
    """The weight gradient of a (K, 1) kernel with stride 1, one tap at a time.

    Note: tap i pairs row position p with windowed position p + i - padding;
    both shifted slices are plain matrices per batch item (full width and
    channels), so each tap is one batched matmul and nothing is unfolded.
    """
    batch, n_rows, width, _ = rows.shape
    n_windowed = windowed.shape[1]
    taps = []
    for tap in range(shape[2]):
        first = max(0, padding - tap)
        last = min(n_rows, n_windowed + padding - tap)
        left = rows[:, first:last].reshape(batch, -1, rows.shape[-1])
        right = windowed[:, first + tap - padding : last + tap - padding].reshape(
            batch, -1, windowed.shape[-1]
        )
        taps.append(torch.bmm(left.transpose(1, 2), right).sum(0))  # [C_rows, C']
    return torch.stack(taps, -1).view(shape)
