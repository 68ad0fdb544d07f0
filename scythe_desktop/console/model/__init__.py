"""The console's model: snapshots, mailboxes, level-of-detail and Automate rules. No Qt, no VisPy."""
