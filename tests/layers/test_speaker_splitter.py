import torch

from espnet2_tisdiss.layers.speaker_splitter import SpeakerSplitter


def test_splits_into_j_streams():
    splitter = SpeakerSplitter(dim=8, hidden_dim=16, num_spk=3)
    y = splitter(torch.randn(2, 8, 10, 9))
    assert y.shape == (2, 3, 8, 10, 9)
    assert not torch.allclose(y[:, 0], y[:, 1])
