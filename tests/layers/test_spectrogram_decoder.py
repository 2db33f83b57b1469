"""The decoder hands the iSTFT a complex64 spectrum also when it runs in reduced precision."""

import pytest
import torch

from espnet2_tisdiss.layers.spectrogram_conv import SpectrogramDecoder


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_decodes_to_complex64(dtype):
    # CUDA autocast (ESPnet's --use_amp) runs the ConvTranspose2d in bfloat16 or float16;
    # bfloat16 has no complex type and float16's (complex32) has no iSTFT.
    torch.manual_seed(0)
    decoder = SpectrogramDecoder(emb_dim=4)
    streams = torch.randn(2, 2, 4, 5, 6)  # [B, J, C, T, F]
    expected = decoder(streams)
    assert expected.dtype == torch.complex64 and expected.shape == (2, 2, 5, 6)
    spectrum = decoder.to(dtype)(streams.to(dtype))
    assert spectrum.dtype == torch.complex64 and spectrum.shape == expected.shape
    torch.testing.assert_close(spectrum, expected, atol=0.05, rtol=0.05)
