"""Deployment without PyTorch: export to ONNX (``export_onnx``, needs torch) and run the
exported graphs with onnxruntime and numpy alone (``onnx_runtime``, ``stft``)."""
