"""The serving backends and precisions by name, without heavy imports (the CLI's parser reads them)."""

BACKENDS = ("auto", "torch", "openvino")
#: ``auto``: bf16 where the hardware computes it natively (GPUs; CPUs with AVX512-BF16 or AMX, where
#: it is about twice as fast), fp16 on GPUs without bf16, float32 elsewhere.
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
