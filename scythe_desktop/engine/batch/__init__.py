"""The batched engine: B worlds of one scenario as struct-of-arrays, stepped by one set of kernels
(dynamics, sensing, actions, billing). :class:`WorldBatch` is the entry point; the single
:class:`~scythe_desktop.engine.world.World` is its batch of one."""
