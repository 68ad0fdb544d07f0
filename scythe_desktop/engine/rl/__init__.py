"""Reinforcement-learning machinery around the engine: observation/action layout, reward, episodes,
training and evaluation. No Qt; the gymnasium env itself is :mod:`scythe_desktop.engine.env`."""
