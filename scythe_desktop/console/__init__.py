"""The desktop console: ``model`` (state and rules, no Qt, no VisPy), ``adapters`` (VisPy scene adapters fed
from the model), ``widgets`` (Qt docks and table models) and, at this level, the main window, its controllers
and worker threads that wire sources, workers and adapters together."""
