"""Native (C) kernels for the hot loops, compiled on the user's machine; optional by design."""
