"""Stage 2: texts → unit vectors, on onnxruntime or PyTorch. May import: the base."""
