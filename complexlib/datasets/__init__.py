"""Data sets for examples and benchmarks; each loader needs an optional extra.

* :mod:`complexlib.datasets.har` -- UCI HAPT smartphone accelerometer and gyroscope
  recordings of 30 people (``pip install "complexlib[iot]"``), windowed into small feature
  vectors for a ReLU activity classifier whose queries stream through the region cache.
"""
