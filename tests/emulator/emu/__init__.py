"""The driftsync local AWS emulator (see tests/emulator/README.md)."""
