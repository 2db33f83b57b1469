import torch

from espnet2_tisdiss.layers.locoformer import TFLocoformerBlock

OPTS = dict(dim=8, attention_dim=8, n_heads=2, ffn_hidden_dim=12, ffn_kernel_size=3,
            ffn_stride=1, num_groups=2, dropout=0.0, eps=1e-5)


def test_separation_block_keeps_shape():
    block = TFLocoformerBlock(speaker_path=False, **OPTS)
    x = torch.randn(2, 8, 11, 9)  # [B, C, T, F]
    assert block(x).shape == x.shape
    assert block.speaker_path is None


def test_reconstruction_block_mixes_speakers():
    block = TFLocoformerBlock(speaker_path=True, **OPTS).eval()
    x = torch.randn(2, 3, 8, 11, 9)  # [B, J, C, T, F]
    y = block(x)
    assert y.shape == x.shape
    x2 = x.clone()
    x2[:, 2] += 1.0
    assert not torch.allclose(block(x2)[:, 0], y[:, 0])  # speaker 0 sees speaker 2


def test_separation_block_rows_are_independent_per_batch_item():
    block = TFLocoformerBlock(speaker_path=False, **OPTS).eval()
    x = torch.randn(3, 8, 7, 5)
    assert torch.allclose(block(x)[1:2], block(x[1:2]), atol=1e-5)
