"""VisPy scene adapters: turn the console model and decoded frames into ``render`` visuals. No Qt widgets."""
