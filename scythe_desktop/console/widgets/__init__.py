"""Qt widgets of the console: docks and their table models. They expose intent methods; nothing reaches in."""
