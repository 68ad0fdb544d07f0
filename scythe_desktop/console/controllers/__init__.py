"""The main window's controllers: decisions (confirm, reject, Automate), recording and replay. Each owns one
concern's state and talks to docks through their intent methods; the window only wires them up."""
