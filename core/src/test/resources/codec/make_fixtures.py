#!/usr/bin/python3
"""Writes the golden wire bytes the Java codec must reproduce, with numpy as the independent
reference (IEEE binary16 via astype(float16), int8 with per-row scale and round-half-even).
Run from this folder: /usr/bin/python3 make_fixtures.py"""
import numpy as np

x = np.array([[0.5, -1.25, 3.0, 1e-3, 65504.0, -0.0, 2.5e-5, 7.1],
              [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
              [-3.3, 1.7, 0.25, -0.125, 100.0, 6e-8, -6e-5, 42.42]], dtype="<f4")
x.tofile("tensor_3x8.fp32.bin")
x.astype("<f2").tofile("tensor_3x8.fp16.bin")
with open("tensor_3x8.int8.bin", "wb") as f:
    for row in x:
        scale = np.float32(np.abs(row).max() / np.float32(127))
        f.write(np.array([scale], dtype="<f4").tobytes())
        q = np.zeros_like(row, dtype=np.int8) if scale == 0 else np.clip(np.rint(row / scale), -127, 127).astype(np.int8)
        f.write(q.tobytes())
