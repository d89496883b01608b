"""Benchmarks of atelier's Python side: training speed, sampling speed and DreamBench-mini (run as modules)."""
